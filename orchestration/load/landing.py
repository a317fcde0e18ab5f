"""One entity and fiscal year from the landing zone into the lake (ingestion -> contracts -> lake)."""

from __future__ import annotations

import datetime as dt
import uuid

from pyiceberg.catalog import Catalog

from contracts.entities import entity as entity_spec
from contracts.rules import LoadContext
from ingestion.landing import landing_files
from ingestion.pipeline import StagedLoad, discard, stage_load
from lake.loads import LoadRecord
from lake.raw_load import StagedFiles, commit_load
from lake.reference import known_service_ids
from lake.settings import Settings


LANDING_SOURCE = "landing"


def new_load_id(entity: str, fiscal_year: int) -> str:
    stamp = dt.datetime.now().strftime("%Y%m%dT%H%M%S")
    return f"{entity}-fy{fiscal_year}-{stamp}-{uuid.uuid4().hex[:8]}"


def staged_files(staged: StagedLoad) -> StagedFiles:
    """A one-year load's staged files and row counts, as the lake commits them."""
    return StagedFiles(
        entity=staged.entity,
        fiscal_year=staged.fiscal_year,
        load_id=staged.load_id,
        source=staged.source,
        data_files=staged.data_files,
        quarantine_file=staged.quarantine_file,
        received=staged.received,
        loaded=staged.loaded,
        quarantined=staged.quarantined,
        source_files=len(staged.files),
    )


def ingest_year(settings: Settings, catalog: Catalog, entity: str, fiscal_year: int, run_id: str | None = None) -> LoadRecord:
    """Stage, validate and commit one year of one entity; returns its ledger row."""
    spec = entity_spec(entity)
    started = dt.datetime.now()
    files = landing_files(settings.landing, entity, fiscal_year)
    known = known_service_ids(catalog, fiscal_year) if spec.checks_service else None
    load_id = new_load_id(entity, fiscal_year)
    work = settings.work_dir / load_id
    ctx = LoadContext(fiscal_year, settings.calendar, known)
    try:
        staged = stage_load(spec, files, ctx, load_id, work, source=LANDING_SOURCE)
        return commit_load(catalog, staged_files(staged), started, run_id=run_id)
    finally:
        discard(work)
