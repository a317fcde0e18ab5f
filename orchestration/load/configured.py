"""The sources of sources.yml in a refresh: the rows of the refreshed fiscal years only.

A source usually spans several years. For a dated entity it is staged once (each row
takes the fiscal year of its event) and only the refreshed years are committed, each as
its own (table, fiscal year, source) partition, also when the source has no row of that
year (the partition then becomes empty). Rows whose year could not be told are
quarantined under fiscal year null, as `civic ingest` does; rows of other years are
left to the refresh of their own year. An undated entity (a service catalogue) is filed
under each refreshed year.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable
from contextlib import AbstractContextManager

from pyiceberg.catalog import Catalog

from contracts.entities import entity as entity_spec
from contracts.rules import LoadContext
from ingestion.pipeline import discard, stage_batches
from ingestion.sources import source_kind
from lake.loads import LoadRecord
from lake.raw_load import commit_load, commit_years
from lake.settings import Settings
from orchestration.load.landing import new_load_id, staged_files
from orchestration.load.feeds import ConfiguredSource, load_sources


def configured_for(settings: Settings, entity: str) -> list[ConfiguredSource]:
    return [s for s in load_sources(settings.sources_file) if entity in s.entities]


def load_configured_sources(
    settings: Settings,
    catalog: Catalog,
    entity: str,
    years: list[int],
    run_id: str | None = None,
    write_lock: Callable[[], AbstractContextManager] = contextlib.nullcontext,
) -> list[LoadRecord]:
    """One ledger row per (configured source, refreshed year) of this entity."""
    records: list[LoadRecord] = []
    for src in configured_for(settings, entity):
        records += load_source_years(settings, catalog, src, entity, years, run_id, write_lock)
    return records


def load_source_years(
    settings: Settings,
    catalog: Catalog,
    src: ConfiguredSource,
    entity: str,
    years: list[int],
    run_id: str | None = None,
    write_lock: Callable[[], AbstractContextManager] = contextlib.nullcontext,
) -> list[LoadRecord]:
    spec = entity_spec(entity)
    source = source_kind(src.kind, state_dir=settings.state_dir)  # one instance: an endpoint is fetched once per call
    calendar = settings.calendar
    records: list[LoadRecord] = []
    if not spec.is_dated:
        for fy in years:
            started, load_id = dt.datetime.now(), new_load_id(entity, fy)
            work = settings.work_dir / load_id
            try:
                staged = stage_batches(spec, source.extract(src.location, entity), LoadContext(fy, calendar), load_id, work, src.name)
                with write_lock():
                    records.append(commit_load(catalog, staged_files(staged), started, run_id))
            finally:
                discard(work)
        return records
    started, load_id = dt.datetime.now(), new_load_id(entity, 0)
    work = settings.work_dir / load_id
    try:
        staged = stage_batches(spec, source.extract(src.location, entity), LoadContext(None, calendar), load_id, work, src.name)
        with write_lock():
            records = commit_years(
                catalog, entity, src.name, load_id, staged.data_files, staged.quarantine_file, work,
                len(staged.files), started, staged.loaded_by_year, staged.quarantined_by_year, run_id,
                only_years=years,
            )
    finally:
        discard(work)
    return records

