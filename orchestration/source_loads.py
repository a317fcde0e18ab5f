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

import pyarrow.parquet as pq
from pyiceberg.catalog import Catalog

from contracts.entities import entity as entity_spec
from contracts.rules import LoadContext
from ingestion.pipeline import StagedLoad, discard, stage_batches
from ingestion.sources import source_kind
from lake.loads import LoadRecord
from lake.raw_load import StagedFiles, commit_load, split_by_year
from lake.settings import Settings
from orchestration.ingest import new_load_id
from orchestration.sources_config import ConfiguredSource, load_sources


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
    source = source_kind(src.kind)  # one instance: an endpoint is fetched once per call
    if hasattr(source, "state_dir"):  # a kind that remembers an endpoint between runs
        source.state_dir = settings.state_dir
    month = settings.fiscal_year_start_month
    records: list[LoadRecord] = []
    if spec.time_column is None and "fiscal_year" not in spec.columns:
        for fy in years:
            started, load_id = dt.datetime.now(), new_load_id(entity, fy)
            work = settings.work_dir / load_id
            try:
                staged = stage_batches(spec, source.extract(src.location, entity), LoadContext(fy, month), load_id, work, src.name)
                with write_lock():
                    records.append(commit_load(catalog, _files(staged, fy, staged.data_files, staged.quarantine_file), started, run_id))
            finally:
                discard(work)
        return records
    started, load_id = dt.datetime.now(), new_load_id(entity, 0)
    work = settings.work_dir / load_id
    try:
        staged = stage_batches(spec, source.extract(src.location, entity), LoadContext(None, month), load_id, work, src.name)
        data = split_by_year(staged.data_files, work / "by_year" / "data")
        rejected = split_by_year([staged.quarantine_file] if staged.quarantine_file else [], work / "by_year" / "quarantine")
        counted = ({y: n for y, n in staged.loaded_by_year.items() if n}, {y: n for y, n in staged.quarantined_by_year.items() if n})
        found = ({y: pq.ParquetFile(p).metadata.num_rows for y, p in data.items()},
                 {y: pq.ParquetFile(p).metadata.num_rows for y, p in rejected.items()})
        if counted != found:  # pragma: no cover - a bug, never a data problem
            raise RuntimeError(f"refusing load {load_id}: staged rows per year {found} differ from the rows validated {counted}")
        unknown_year = [None] if None in rejected else []
        with write_lock():
            for fy in [*years, *unknown_year]:
                files = [data[fy]] if fy in data else []
                records.append(commit_load(catalog, _files(staged, fy, files, rejected.get(fy)), started, run_id))
    finally:
        discard(work)
    return records


def _files(staged: StagedLoad, fy: int | None, data_files, quarantine_file) -> StagedFiles:
    loaded = sum(pq.ParquetFile(f).metadata.num_rows for f in data_files)
    quarantined = pq.ParquetFile(quarantine_file).metadata.num_rows if quarantine_file else 0
    return StagedFiles(
        entity=staged.entity, fiscal_year=fy, load_id=staged.load_id, source=staged.source,
        data_files=list(data_files), quarantine_file=quarantine_file,
        received=loaded + quarantined, loaded=loaded, quarantined=quarantined, source_files=len(staged.files),
    )
