"""Commit one staged load to the lake: quarantine, raw partition, then the ledger row."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
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
    if table is not None and staged.fiscal_year is not None:
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


def split_by_year(files: list[Path], out_dir: Path) -> dict[int | None, Path]:
    """Stream staged Parquet files into one file per fiscal year (None: year unknown)."""
    if not files:
        return {}
    schema = pa.unify_schemas([pq.read_schema(f) for f in files], promote_options="permissive")
    dataset = ds.dataset([str(f) for f in files], format="parquet", schema=schema)
    years = pa.compute.unique(dataset.to_table(columns=["fiscal_year"])["fiscal_year"]).to_pylist()
    out_dir.mkdir(parents=True, exist_ok=True)
    parts: dict[int | None, Path] = {}
    for year in years:
        keep = ds.field("fiscal_year").is_null() if year is None else ds.field("fiscal_year") == year
        path = out_dir / f"fy-{year}.parquet"
        with pq.ParquetWriter(path, schema) as writer:
            for batch in dataset.to_batches(filter=keep):
                # an empty row group has no statistics, and pyiceberg's add_files then
                # registers the file without its partition values (so partition counts miss it)
                if batch.num_rows:
                    writer.write_batch(batch)
        parts[year] = path
    return parts


def commit_years(
    catalog: Catalog,
    entity: str,
    source: str,
    load_id: str,
    data_files: list[Path],
    quarantine_file: Path | None,
    work_dir: Path,
    source_files: int,
    started_at: dt.datetime,
    loaded_by_year: dict[int | None, int],
    quarantined_by_year: dict[int | None, int],
    run_id: str | None = None,
    only_years: list[int] | None = None,
) -> list[LoadRecord]:
    """Commit a load that spans several fiscal years: one commit per (table, year, source).

    The rows found in the staged files of each year must be the rows the contracts
    counted for it; any difference is refused before anything is committed. With
    `only_years` (a refresh of those years), exactly those years are committed (a year
    without rows replaces its partition with nothing), plus rows without a usable year;
    rows of other years are left out.
    """
    data = split_by_year(data_files, work_dir / "by_year" / "data")
    rejected = split_by_year([quarantine_file] if quarantine_file else [], work_dir / "by_year" / "quarantine")
    staged_loaded = {y: pq.ParquetFile(p).metadata.num_rows for y, p in data.items()}
    staged_rejected = {y: pq.ParquetFile(p).metadata.num_rows for y, p in rejected.items()}
    if {y: n for y, n in loaded_by_year.items() if n} != staged_loaded or {
        y: n for y, n in quarantined_by_year.items() if n
    } != staged_rejected:
        raise RuntimeError(
            f"refusing load {load_id}: staged rows per year {staged_loaded}/{staged_rejected} differ from "
            f"the rows validated {loaded_by_year}/{quarantined_by_year}"
        )
    records = []
    years = set(data) | set(rejected) if only_years is None else {*only_years, *({None} & set(rejected))}
    for year in sorted(years, key=lambda y: (y is None, y or 0)):
        loaded = staged_loaded.get(year, 0)
        quarantined = staged_rejected.get(year, 0)
        staged = StagedFiles(
            entity=entity,
            fiscal_year=year,
            load_id=load_id,
            source=source,
            data_files=[data[year]] if year in data else [],
            quarantine_file=rejected.get(year),
            received=loaded + quarantined,
            loaded=loaded,
            quarantined=quarantined,
            source_files=source_files,
        )
        records.append(commit_load(catalog, staged, started_at, run_id=run_id))
    return records
