"""`civic ingest --source KIND LOCATION`: a published source (several fiscal years in one
file) into the lake, one commit per (table, fiscal year, source), every row accounted for."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from urllib.parse import urlsplit

from pyiceberg.catalog import Catalog

from contracts.entities import entity as entity_spec
from contracts.rules import LoadContext
from ingestion.pipeline import discard, stage_batches
from ingestion.sources import source_kind
from lake.loads import LoadRecord
from lake.raw_load import commit_load, commit_years
from lake.settings import Settings
from orchestration.load.landing import new_load_id, staged_files


def default_source_name(kind: str, location: str) -> str:
    """Names the feed, so two cities' feeds of one kind never replace each other."""
    if "://" in location:  # an endpoint: host and path, without query or client options
        parts = urlsplit(location)
        return f"{kind}:" + re.sub(r"[^A-Za-z0-9.-]+", "_", f"{parts.netloc}{parts.path}").strip("_")
    return f"{kind}:{Path(location.rstrip('/')).stem or kind}"


def ingest_source(
    settings: Settings, catalog: Catalog, kind: str, location: str, name: str | None = None, run_id: str | None = None,
    observed_at: dt.datetime | None = None,
) -> list[LoadRecord]:
    source = source_kind(kind, observed_at, settings.state_dir)
    name = name or default_source_name(kind, location)
    records: list[LoadRecord] = []
    years: set[int] = set()
    for entity in source.entities:
        spec = entity_spec(entity)
        if spec.is_dated:
            ctx_years: list[int | None] = [None]
        else:  # a catalogue without dates is filed under the fiscal years this ingest covers
            ctx_years = sorted(years) or [settings.calendar.year_of(dt.date.today())]
        for year in ctx_years:
            started = dt.datetime.now()
            load_id = new_load_id(entity, year if year is not None else 0)
            work = settings.work_dir / load_id
            try:
                staged = stage_batches(
                    spec, source.extract(location, entity),
                    LoadContext(year, settings.calendar, known_services=None),
                    load_id, work, source=name,
                )
                if staged.received == 0:
                    continue
                if year is None:
                    new = commit_years(
                        catalog, entity, name, load_id, staged.data_files, staged.quarantine_file,
                        work, len(staged.files), started,
                        staged.loaded_by_year, staged.quarantined_by_year, run_id=run_id,
                    )
                    years |= {r.fiscal_year for r in new if r.fiscal_year is not None}
                else:
                    new = [commit_load(catalog, staged_files(staged), started, run_id=run_id)]
                records.extend(new)
            finally:
                discard(work)
    return records
