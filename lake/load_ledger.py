"""The load ledger `raw.loads`: one row per (load, table, fiscal year), never rewritten.

rows received = rows loaded + rows quarantined, always; the asset checks assert it.
Every row is an entry of a hash chain (`lake.ledger_chain`): a sequence number, the
previous entry's hash and its own, over its metadata, snapshot ids and the SHA-256 of
its data and source files; `lake.verify` recomputes it. Entries are appended one at a
time: the ledger table takes no automatic commit retry (a retried append would chain
to a stale head), a lost race re-reads the head and chains again.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from importlib.metadata import PackageNotFoundError, version

import pyarrow as pa
from pyiceberg.catalog import Catalog
from pyiceberg.exceptions import CommitFailedException, NoSuchTableError
from pyiceberg.expressions import AlwaysFalse, AlwaysTrue, And, BooleanExpression, In, Reference
from pyiceberg.expressions.literals import literal
from pyiceberg.table import Table

from lake.ledger_chain import GENESIS, entry_hash
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
        # added later (old ledgers read them as null): the feed the rows came from
        # (feeds.yml's name, `civic ingest --name`, `landing`), and the hash chain
        ("feed", pa.string()),
        ("data_files", pa.string()),  # JSON: [{table, path, sha256}] registered by the load
        ("source_files", pa.string()),  # JSON: [{table, path, sha256}] of the local source files read
        ("seq", pa.int64()),
        ("prev_hash", pa.string()),
        ("entry_hash", pa.string()),
        # rows an erasure or a retention run removed from the partition (null: a load);
        # such an entry replaces the partition with the rows kept (lake.erasure)
        ("erased", pa.int64()),
    ]
)
_HEAD_SEQ, _HEAD_HASH = "civic.chain-seq", "civic.chain-head"
# No automatic retry for the ledger's appends: the chain is re-read and re-linked instead.
_NO_RETRY = {"commit.retry.num-retries": "0"}


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
    feed: str | None = None
    data_files: str | None = None
    source_files: str | None = None
    seq: int | None = None
    prev_hash: str | None = None
    entry_hash: str | None = None
    erased: int | None = None


def record_load(catalog: Catalog, record: LoadRecord) -> LoadRecord:
    """Append one entry, chained to the current head; returns it with seq and hashes."""
    # one append per load, forever: merged manifests and expired snapshots keep it cheap
    # (no age kept: every row of an old snapshot is in the current one)
    table = bound_history(ensure_table(catalog, LOADS_TABLE, LOADS_ARROW, partition_by=()), merge_manifests=True)
    if table.properties.get("commit.retry.num-retries") != "0":
        with table.transaction() as tx:
            tx.set_properties(_NO_RETRY)
        table = catalog.load_table(LOADS_TABLE)
    for attempt in range(30):
        seq, head = chain_head(table)
        entry = replace(record, seq=seq + 1, prev_hash=head, entry_hash=None)
        entry = replace(entry, entry_hash=entry_hash(asdict(entry)))
        try:
            table.append(
                pa.Table.from_pylist([asdict(entry)], schema=LOADS_ARROW),
                snapshot_properties={_HEAD_SEQ: str(entry.seq), _HEAD_HASH: str(entry.entry_hash)},
            )
        except CommitFailedException:  # another load appended first: chain to its entry
            time.sleep(0.05 * (attempt + 1))
            table = catalog.load_table(LOADS_TABLE)
            continue
        expire_snapshots(table, retention=dt.timedelta(0))
        return entry
    raise RuntimeError(f"could not append load {record.load_id} to the ledger: too many concurrent writers")


def chain_head(table: Table) -> tuple[int, str]:
    """(sequence number, hash) of the newest chained entry; (0, GENESIS) for none."""
    snapshot = table.current_snapshot()
    if snapshot is None:
        return 0, GENESIS
    # the append that made the snapshot noted the head: no scan of the growing ledger
    noted = snapshot.summary.additional_properties if snapshot.summary else {}
    if _HEAD_SEQ in noted and _HEAD_HASH in noted:
        return int(noted[_HEAD_SEQ]), noted[_HEAD_HASH]
    rows = table.scan(selected_fields=("seq", "entry_hash")).to_arrow()
    rows = rows.filter(pa.compute.is_valid(rows["seq"]))
    if rows.num_rows == 0:
        return 0, GENESIS
    newest = rows.sort_by([("seq", "descending")]).slice(0, 1).to_pylist()[0]
    return int(newest["seq"]), str(newest["entry_hash"])


def ledger_head(catalog: Catalog) -> tuple[int, str] | None:
    """The chain head of the lake's ledger, None without one."""
    try:
        return chain_head(catalog.load_table(LOADS_TABLE))
    except NoSuchTableError:
        return None


def read_loads(
    catalog: Catalog,
    table_name: str | None = None,
    fiscal_year: int | None = None,
    *,
    table_names: Iterable[str] | None = None,
    fiscal_years: Iterable[int] | None = None,
    sources: Iterable[str] | None = None,
) -> pa.Table:
    """The ledger, newest first, optionally for some tables, fiscal years and sources.

    The filters go into the scan: every append wrote a file of one entry, so a filtered
    read opens the files of the entries it asks for (pruned by their column bounds), not
    the whole ledger, which grows by a dozen files a fiscal year at every refresh."""
    try:
        table = catalog.load_table(LOADS_TABLE)
    except NoSuchTableError:
        return LOADS_ARROW.empty_table()
    row_filter: BooleanExpression = AlwaysTrue()
    for column, one, many in (
        ("table_name", table_name, table_names),
        ("fiscal_year", fiscal_year, fiscal_years),
        ("source", None, sources),
    ):
        values = {one} if one is not None else set(many) if many is not None else None
        if values is not None:
            wanted = In(term=Reference(column), values={literal(v) for v in values}) if values else AlwaysFalse()
            row_filter = And(row_filter, wanted)
    rows = with_all_columns(table.scan(row_filter=row_filter).to_arrow())
    return rows.sort_by([("finished_at", "descending")])


def with_all_columns(rows: pa.Table) -> pa.Table:
    """A ledger read with every column of LOADS_ARROW (null where an old ledger has none)."""
    for f in LOADS_ARROW:
        if f.name not in rows.column_names:
            rows = rows.append_column(f.name, pa.nulls(rows.num_rows, f.type))
    return rows.select(LOADS_ARROW.names)
