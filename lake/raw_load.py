"""Commit one staged load to the lake: quarantine, raw partition, then the ledger row."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from pyiceberg.catalog import Catalog
from pyiceberg.exceptions import NoSuchTableError

from lake.commit import partition_filter, replace_partition
from lake.loads import LoadRecord, code_version, record_load
from lake.quarantine import replace_quarantine
from lake.tables import ensure_table


# A load replaces one fiscal year of one source: two sources feeding the same entity
# (a city's 3-1-1 export and its Open311 API) never overwrite each other.
RAW_PARTITIONING = ("fiscal_year", "_source")


@dataclass
class StagedFiles:
    """What ingestion hands the lake (the lake never imports ingestion)."""

    entity: str
    fiscal_year: int
    load_id: str
    source: str
    data_files: list[Path]
    quarantine_file: Path | None
    received: int
    loaded: int
    quarantined: int
    source_files: int


def _staged_schema(files: list[Path]) -> pa.Schema | None:
    schemas = [pq.read_schema(f) for f in files]
    if not schemas:
        return None
    return pa.unify_schemas(schemas, promote_options="permissive")


def commit_load(catalog: Catalog, staged: StagedFiles, started_at: dt.datetime, run_id: str | None = None) -> LoadRecord:
    if staged.received != staged.loaded + staged.quarantined:
        raise ValueError(f"refusing an unbalanced load {staged.load_id}: received != loaded + quarantined")
    identifier = f"raw.{staged.entity}"
    props = {
        "civic.load-id": staged.load_id,
        "civic.source": staged.source,
        "civic.fiscal-year": staged.fiscal_year,
        "civic.rows-received": staged.received,
        "civic.rows-loaded": staged.loaded,
        "civic.rows-quarantined": staged.quarantined,
        "civic.code-version": code_version(),
    }
    if run_id:
        props["civic.run-id"] = run_id
    q_snapshot = replace_quarantine(
        catalog, staged.entity, staged.fiscal_year, staged.source, staged.quarantine_file, staged.load_id, props
    )
    schema = _staged_schema(staged.data_files)
    try:
        table = (
            catalog.load_table(identifier)
            if schema is None
            else ensure_table(catalog, identifier, schema, partition_by=RAW_PARTITIONING)
        )
    except NoSuchTableError:
        table = None  # nothing valid ever arrived for this entity: no table to replace yet
    snapshot = None
    if table is not None:
        snapshot = replace_partition(
            table,
            staged.data_files,
            partition_filter(staged.fiscal_year, _source=staged.source),
            partition_path=f"fiscal_year={staged.fiscal_year}/_source={staged.source}",
            file_prefix=staged.load_id,
            properties=props,
        )
    finished = dt.datetime.now()
    record = LoadRecord(
        load_id=staged.load_id,
        table_name=identifier,
        fiscal_year=staged.fiscal_year,
        source=staged.source,
        received=staged.received,
        loaded=staged.loaded,
        quarantined=staged.quarantined,
        snapshot_id=snapshot,
        quarantine_snapshot_id=q_snapshot,
        files=staged.source_files,
        started_at=started_at,
        finished_at=finished,
        seconds=(finished - started_at).total_seconds(),
        code_version=code_version(),
        run_id=run_id,
    )
    record_load(catalog, record)
    return record
