"""Remove rows from the raw tables and the quarantine so that no file of the lake still
holds them: an erasure request for one pseudonym (`civic erase`), or the rows of fiscal
years past their dataset's retention (`civic retention`, lake.retention).

Each raw partition (table, fiscal year, source) holding such rows is rewritten without
them, with the quarantine partition of the same load, in one load-like commit that is an
entry of the ledger's hash chain (`feed` "erasure" or "retention", `erased` = rows
removed): `civic verify` finds the partition's files in that entry, the rows before and
after add up, and its snapshots are explained. Then every older snapshot of the tables
touched is expired and every file no remaining snapshot reaches (the old data files,
manifests and manifest lists) is deleted at once: none still holds the rows. The ledger
itself never names the pseudonym. Run under the refresh lock: no load commits meanwhile.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
import pyarrow.parquet as pq
from pyiceberg.catalog import Catalog
from pyiceberg.io.pyarrow import schema_to_pyarrow
from pyiceberg.table import Table

from contracts.register import DatasetUse
from contracts.staged import QUARANTINE_ARROW, StagedLoad
from lake.commit import equal_to, partition_filter
from lake.load_ledger import LoadRecord
from lake.maintenance import normal_location, referenced_files, table_orphans
from lake.quarantine import QUARANTINE_TABLE
from lake.raw_commit import commit_staged

# which rows of a partition go: (raw rows) -> mask, (quarantine rows) -> mask
RowMask = Callable[[pa.Table], pa.Array]


@dataclass(frozen=True)
class Selection:
    """The rows to remove from one entity's raw table and quarantine partitions."""

    entity: str
    columns: frozenset[str]  # the raw columns `raw_mask` reads (those the table has)
    raw_mask: RowMask
    quarantine_mask: RowMask
    years: Callable[[int | None], bool] = lambda year: True  # partitions considered


@dataclass
class Removal:
    """What one rewrite removed."""

    table: str
    fiscal_year: int | None
    source: str
    raw_rows: int
    quarantine_rows: int
    entry: LoadRecord


def pseudonym_columns(register: dict[str, DatasetUse]) -> dict[str, list[str]]:
    """entity -> its columns the register says hold a pseudonym."""
    return {
        name: sorted(c for c, p in use.personal_fields.items() if p.startswith("pseudonym:"))
        for name, use in register.items()
        if any(p.startswith("pseudonym:") for p in use.personal_fields.values())
    }


def pseudonym_selections(register: dict[str, DatasetUse], value: str) -> list[Selection]:
    """The rows of one person: a pseudonym column equal to `value`, or a quarantined row
    whose text holds it."""
    out = []
    for entity, columns in pseudonym_columns(register).items():

        def raw_mask(rows: pa.Table, columns=columns) -> pa.Array:
            hits = [pc.equal(rows[c], value) for c in columns if c in rows.column_names]
            mask = pa.array([False] * rows.num_rows, type=pa.bool_())
            for hit in hits:
                mask = pc.or_(mask, pc.fill_null(hit, False))
            return mask

        out.append(Selection(entity, frozenset(columns), raw_mask, lambda rows: _holds(rows, value)))
    return out


def _holds(rows: pa.Table, value: str) -> pa.Array:
    return pc.fill_null(pc.match_substring(rows["row"], value), False)


def _all(rows: pa.Table) -> pa.Array:
    return pa.array([True] * rows.num_rows, type=pa.bool_())


def year_selections(entities: dict[str, int]) -> list[Selection]:
    """Every row of the fiscal years below each entity's cutoff (retention)."""
    return [Selection(entity, frozenset(), _all, _all, _before(cutoff)) for entity, cutoff in entities.items()]


def _before(cutoff: int) -> Callable[[int | None], bool]:
    return lambda year: year is not None and year < cutoff


def remove_rows(
    catalog: Catalog,
    fs: pafs.FileSystem,
    work_dir: Path,
    selections: list[Selection],
    feed: str,
    run_id: str | None = None,
    every_orphan: bool = True,
) -> list[Removal]:
    """Rewrite every partition holding selected rows without them, then expire the older
    snapshots of the tables touched and delete the files only those reached
    (`every_orphan`: see :func:`purge_history`)."""
    request = f"{feed}-{dt.datetime.now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    scratch = work_dir / request
    found = [(sel, part) for sel in selections for part in sorted(_partitions(catalog, sel), key=_order)]
    removals: list[Removal] = []
    try:
        for sel, (year, source) in found:
            removal = _rewrite(catalog, sel, year, source, scratch, f"{request}-{len(removals):03d}", feed, run_id)
            if removal is not None:
                removals.append(removal)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        # also after a rewrite that failed half-way, or an earlier run killed before this:
        # no older snapshot of these tables may keep the rows
        for name in sorted({f"raw.{sel.entity}" for sel in selections} | {QUARANTINE_TABLE}):
            if catalog.table_exists(name):
                purge_history(catalog.load_table(name), fs, every_orphan)
    return removals


def _order(part: tuple[int | None, str]) -> tuple:
    return (part[0] is None, part[0] or 0, part[1])


def _partitions(catalog: Catalog, sel: Selection) -> set[tuple[int | None, str]]:
    """(fiscal year, source) of the raw and quarantine partitions holding selected rows."""
    found: set[tuple[int | None, str]] = set()
    name = f"raw.{sel.entity}"
    if catalog.table_exists(name):
        table = catalog.load_table(name)
        # no pushed-down equality: the string bounds of files registered by add_files are
        # truncated Parquet statistics, and pyiceberg prunes files that hold the value
        names = set(table.schema().column_names)
        rows = table.scan(selected_fields=tuple(sel.columns & names | {"fiscal_year", "_source"})).to_arrow()
        rows = rows.filter(sel.raw_mask(rows))
        found |= set(zip(rows["fiscal_year"].to_pylist(), rows["_source"].to_pylist()))
    if catalog.table_exists(QUARANTINE_TABLE):
        rows = catalog.load_table(QUARANTINE_TABLE).scan(row_filter=equal_to("entity", sel.entity)).to_arrow()
        rows = rows.filter(sel.quarantine_mask(rows))
        found |= set(zip(rows["fiscal_year"].to_pylist(), rows["source"].to_pylist()))
    return {(y, s) for y, s in found if sel.years(y)}


def _plain(rows: pa.Table, table: Table) -> pa.Table:
    """The rows as a file `add_files` takes: the table's types, no field ids."""
    schema = schema_to_pyarrow(table.schema(), include_field_ids=False)
    return rows.select(schema.names).cast(schema)


def _rewrite(
    catalog: Catalog,
    sel: Selection,
    year: int | None,
    source: str,
    scratch: Path,
    load_id: str,
    feed: str,
    run_id: str | None,
) -> Removal | None:
    started = dt.datetime.now()
    name = f"raw.{sel.entity}"
    scratch.mkdir(parents=True, exist_ok=True)
    data_files: list[Path] = []
    kept = removed = 0
    if year is not None and catalog.table_exists(name):
        table = catalog.load_table(name)
        rows = table.scan(row_filter=partition_filter(year, _source=source)).to_arrow()
        mask = sel.raw_mask(rows)
        removed = pc.sum(pc.cast(mask, pa.int64())).as_py() or 0
        keep = _plain(rows.filter(pc.invert(mask)), table)
        kept = keep.num_rows
        if kept:
            path = scratch / f"{load_id}-raw.parquet"
            pq.write_table(keep, path)
            data_files.append(path)
    q_kept = q_removed = 0
    q_file = None
    if catalog.table_exists(QUARANTINE_TABLE):
        q_table = catalog.load_table(QUARANTINE_TABLE)
        rows = q_table.scan(row_filter=partition_filter(year, entity=sel.entity, source=source)).to_arrow()
        mask = sel.quarantine_mask(rows)
        q_removed = pc.sum(pc.cast(mask, pa.int64())).as_py() or 0
        keep = rows.filter(pc.invert(mask)).select(QUARANTINE_ARROW.names).cast(QUARANTINE_ARROW)
        q_kept = keep.num_rows
        if q_kept:
            q_file = scratch / f"{load_id}-quarantine.parquet"
            pq.write_table(keep, q_file)
    if not removed and not q_removed:
        return None
    staged = StagedLoad(
        entity=sel.entity,
        fiscal_year=year,
        load_id=load_id,
        source=source,
        data_files=data_files,
        quarantine_file=q_file,
        received=kept + q_kept,
        loaded=kept,
        quarantined=q_kept,
    )
    (entry,) = commit_staged(catalog, staged, started_at=started, run_id=run_id, feed=feed, erased=removed + q_removed)
    return Removal(name, year, source, removed, q_removed, entry)


def purge_history(table: Table, fs: pafs.FileSystem, every_orphan: bool) -> int:
    """Expire every snapshot but the current one and delete the files only they reached;
    with `every_orphan` (no commit can be in flight: the embedded catalog under the
    refresh lock) also every other file of the table nothing reaches, such as those an
    earlier erasure killed between expiring and deleting left. Returns the files deleted.
    Metadata JSON files of the log stay: they name snapshots and files, never rows."""
    current = table.current_snapshot()
    old = [s.snapshot_id for s in table.metadata.snapshots if current is None or s.snapshot_id != current.snapshot_id]
    before = {normal_location(f) for f in referenced_files(table)}
    if old:
        table.maintenance.expire_snapshots().by_ids(old).commit()
        table.refresh()
    after = {normal_location(f) for f in referenced_files(table)}
    doomed = (
        {normal_location(o.location) for o in table_orphans(table, fs, dt.datetime.now(dt.UTC))}
        if every_orphan
        else set()
    )
    doomed |= before - after
    for location in sorted(doomed - after):
        with contextlib.suppress(FileNotFoundError):
            fs.delete_file(location)
    return len(doomed - after)
