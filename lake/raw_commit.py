"""Commit one staged load to the lake: per fiscal year, quarantine, raw partition, then the ledger row.

`commit_staged` takes the `contracts.staged.StagedLoad` that staging returned. A load
staged for one fiscal year is committed as that year; a load spanning several years
(`fiscal_year` None) is split into one file per year first, each committed on its own.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
from pyiceberg.catalog import Catalog
from pyiceberg.exceptions import NoSuchTableError

from contracts.staged import StagedLoad
from lake.commit import partition_filter, replace_partition
from lake.ledger_chain import file_list, sha256_file
from lake.load_ledger import LoadRecord, code_version, record_load
from lake.quarantine import QUARANTINE_TABLE, replace_quarantine
from lake.shrink_guard import check_shrink
from lake.tables import ensure_table

# A load replaces one fiscal year of one source: two sources feeding the same entity
# (a city's 3-1-1 export and its Open311 API) never overwrite each other.
RAW_PARTITIONING = ("fiscal_year", "_source")


def _staged_schema(files: list[Path]) -> pa.Schema | None:
    schemas = [pq.read_schema(f) for f in files]
    if not schemas:
        return None
    return pa.unify_schemas(schemas, promote_options="permissive")


def commit_staged(
    catalog: Catalog,
    staged: StagedLoad,
    *,
    started_at: dt.datetime,
    run_id: str | None = None,
    only_years: list[int] | None = None,
    feed: str | None = None,
    erased: int | None = None,
    min_share: float | None = None,
) -> list[LoadRecord]:
    """Commit a staged load: one commit and ledger row per (table, fiscal year, source).

    A load staged for one fiscal year is that year's commit. A load spanning several
    years is split by year; the rows found in the staged files of each year must be the
    rows the contracts counted for it, any difference is refused before anything is
    committed. With `only_years` (a refresh of those years), exactly those years are
    committed (a year without rows replaces its partition with nothing), plus rows
    without a usable year; rows of other years are left out. `feed` and `erased` mark a
    partition rewritten without some of its rows (lake.erasure): the ledger's feed and
    rows removed.

    `min_share` (None: no guard): every year is checked by the shrink guard
    (`lake.shrink_guard`) before the first is committed, so a refused load changes nothing.
    """
    if erased is not None:  # one partition rewritten (fiscal year None: quarantined rows only)
        return [_commit_year(catalog, staged, started_at, run_id, feed, erased)]
    if staged.fiscal_year is not None:
        if only_years is not None:
            raise ValueError(
                f"load {staged.load_id} is of FY{staged.fiscal_year} only: `only_years` is for a load spanning years"
            )
        parts = [staged]
    else:
        parts = _by_year(staged, only_years)
    check_shrink(catalog, parts, min_share)
    return [_commit_year(catalog, part, started_at, run_id, feed) for part in parts]


def _by_year(staged: StagedLoad, only_years: list[int] | None) -> list[StagedLoad]:
    """A load spanning years, as one staged load per fiscal year (None: year unknown)."""
    if staged.work_dir is None:
        raise ValueError(f"load {staged.load_id} spans years: splitting it needs its working directory")
    out = staged.work_dir / "by_year"
    data = split_by_year(staged.data_files, out / "data")
    rejected = split_by_year([staged.quarantine_file] if staged.quarantine_file else [], out / "quarantine")
    staged_loaded = {y: pq.ParquetFile(p).metadata.num_rows for y, p in data.items()}
    staged_rejected = {y: pq.ParquetFile(p).metadata.num_rows for y, p in rejected.items()}
    if {y: n for y, n in staged.loaded_by_year.items() if n} != staged_loaded or {
        y: n for y, n in staged.quarantined_by_year.items() if n
    } != staged_rejected:
        raise RuntimeError(
            f"refusing load {staged.load_id}: staged rows per year {staged_loaded}/{staged_rejected} differ from "
            f"the rows validated {staged.loaded_by_year}/{staged.quarantined_by_year}"
        )
    years = set(data) | set(rejected) if only_years is None else {*only_years, *({None} & set(rejected))}
    parts = []
    for year in sorted(years, key=lambda y: (y is None, y or 0)):
        loaded, quarantined = staged_loaded.get(year, 0), staged_rejected.get(year, 0)
        parts.append(
            dataclasses.replace(
                staged,
                fiscal_year=year,
                data_files=[data[year]] if year in data else [],
                quarantine_file=rejected.get(year),
                received=loaded + quarantined,
                loaded=loaded,
                quarantined=quarantined,
                loaded_by_year={year: loaded},
                quarantined_by_year={year: quarantined},
            )
        )
    return parts


def _commit_year(
    catalog: Catalog,
    staged: StagedLoad,
    started_at: dt.datetime,
    run_id: str | None,
    feed: str | None = None,
    erased: int | None = None,
) -> LoadRecord:
    """One (table, fiscal year, source): quarantine, raw partition, then the ledger row."""
    if not staged.balanced:
        raise ValueError(f"refusing an unbalanced load {staged.load_id}: received != loaded + quarantined")
    identifier = f"raw.{staged.entity}"
    props = {
        "civic.load-id": staged.load_id,
        "civic.source": staged.source,
        "civic.fiscal-year": str(staged.fiscal_year),
        "civic.rows-received": str(staged.received),
        "civic.rows-loaded": str(staged.loaded),
        "civic.rows-quarantined": str(staged.quarantined),
        "civic.code-version": code_version(),
    }
    if run_id:
        props["civic.run-id"] = run_id
    q_placed: list[tuple[Path, str]] = []
    q_snapshot = replace_quarantine(
        catalog,
        staged.entity,
        staged.fiscal_year,
        staged.source,
        staged.quarantine_file,
        staged.load_id,
        props,
        placed=q_placed,
    )
    placed: list[tuple[Path, str]] = []
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
            placed=placed,
        )
    # the hashes of the staged files are those of the files registered (linked or copied)
    data_files = [(QUARANTINE_TABLE, target, sha256_file(local)) for local, target in q_placed]
    data_files += [(identifier, target, sha256_file(local)) for local, target in placed]
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
        files=len(staged.files),
        started_at=started_at,
        finished_at=finished,
        seconds=(finished - started_at).total_seconds(),
        code_version=code_version(),
        run_id=run_id,
        feed=feed or staged.source,
        data_files=file_list(data_files),
        source_files=file_list([("source", p, h) for p, h in staged.source_hashes.items()]),
        erased=erased,
    )
    return record_load(catalog, record)


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
