"""The load ledger `raw.loads`: one row per (load, table, fiscal year), never rewritten.

rows received = rows loaded + rows quarantined, always; the asset checks assert it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from importlib.metadata import PackageNotFoundError, version

import pyarrow as pa
from pyiceberg.catalog import Catalog
from pyiceberg.exceptions import NoSuchTableError

from lake.maintenance import bound_history, expire_snapshots
from lake.tables import ensure_table

LOADS_TABLE = "raw.loads"

LOADS_ARROW = pa.schema(
    [
        ("load_id", pa.string()),
        ("table_name", pa.string()),
        ("fiscal_year", pa.int32()),
        ("source", pa.string()),
        ("received", pa.int64()),
        ("loaded", pa.int64()),
        ("quarantined", pa.int64()),
        ("snapshot_id", pa.int64()),
        ("quarantine_snapshot_id", pa.int64()),
        ("files", pa.int32()),
        ("started_at", pa.timestamp("us")),
        ("finished_at", pa.timestamp("us")),
        ("seconds", pa.float64()),
        ("code_version", pa.string()),
        ("run_id", pa.string()),
    ]
)


def code_version() -> str:
    try:
        return version("civic-lakehouse")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "unknown"


@dataclass
class LoadRecord:
    load_id: str
    table_name: str
    fiscal_year: int | None
    source: str
    received: int
    loaded: int
    quarantined: int
    snapshot_id: int | None
    quarantine_snapshot_id: int | None
    files: int
    started_at: dt.datetime
    finished_at: dt.datetime
    seconds: float
    code_version: str
    run_id: str | None = None


def record_load(catalog: Catalog, record: LoadRecord) -> None:
    # one append per load, forever: merged manifests and expired snapshots keep it cheap
    # (no age kept: every row of an old snapshot is in the current one)
    table = bound_history(ensure_table(catalog, LOADS_TABLE, LOADS_ARROW, partition_by=()), merge_manifests=True)
    table.append(pa.Table.from_pylist([asdict(record)], schema=LOADS_ARROW))
    expire_snapshots(table, retention=dt.timedelta(0))


def read_loads(catalog: Catalog, table_name: str | None = None, fiscal_year: int | None = None) -> pa.Table:
    """The ledger, newest first, optionally for one table and year."""
    try:
        table = catalog.load_table(LOADS_TABLE)
    except NoSuchTableError:
        return LOADS_ARROW.empty_table()
    rows = table.scan().to_arrow()
    if table_name is not None:
        rows = rows.filter(pa.compute.equal(rows["table_name"], table_name))
    if fiscal_year is not None:
        rows = rows.filter(pa.compute.equal(rows["fiscal_year"], fiscal_year))
    return rows.sort_by([("finished_at", "descending")])
