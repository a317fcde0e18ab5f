"""The access log: who read which marts, when, and how many rows (`civic access-log`).

Every guarded query of `civic query` is logged, refused or not: when, the OS user (or the
BI role), the marts it names (parsed with sqlglot), a fingerprint of its SQL (SHA-256 of
the normalised sqlglot text, so the same query written twice gets one fingerprint and no
literal it holds, a pseudonym say, is kept), the rows returned and the outcome.

The log is the Iceberg table `governance.access_log`, a namespace of its own that the
marts-only file BI tools read never holds. A query does not commit to it: an Iceberg
commit (and importing pyiceberg) would cost more than a small query itself. It appends
one JSON line to the spool `$CIVIC_HOME/governance/access_log.jsonl` (owner-only, about
0.1 ms), and the spool is moved into the table by `civic access-log` and by every
refresh (:func:`flush_spool`): the spool is renamed first, so a query appending
meanwhile starts a new one; a flush killed half-way is redone without duplicates (each
entry has an id).
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json
import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog

ACCESS_LOG_NAMESPACE = "governance"
ACCESS_LOG_TABLE = f"{ACCESS_LOG_NAMESPACE}.access_log"
SPOOL_NAME = "access_log.jsonl"

ACCESS_ARROW = pa.schema(
    [
        ("entry_id", pa.string()),
        ("at", pa.timestamp("us", tz="UTC")),
        ("os_user", pa.string()),
        ("role", pa.string()),  # the BI role of a serving-database read; null for `civic query`
        ("channel", pa.string()),  # civic query, postgres
        ("marts", pa.string()),  # comma separated, sorted
        ("sql_fingerprint", pa.string()),
        ("rows", pa.int64()),
        ("outcome", pa.string()),  # ok, truncated, refused, failed, limit; started (a postgres read)
        ("refused", pa.bool_()),
        ("milliseconds", pa.float64()),
    ]
)


@dataclass
class Access:
    entry_id: str
    at: dt.datetime
    os_user: str | None
    role: str | None
    channel: str
    marts: str
    sql_fingerprint: str
    rows: int | None
    outcome: str
    refused: bool
    milliseconds: float | None  # None: a serving-database read (not timed)


def spool_path(home: Path) -> Path:
    return home / "governance" / SPOOL_NAME


def query_facts(sql: str, dialect: str = "duckdb") -> tuple[str, list[str]]:
    """(fingerprint, marts named) of a query: SHA-256 of sqlglot's normalised DuckDB text
    (literals kept as written, so different filters differ), and the `marts.<t>` tables it
    reads (other tables, of a refused query, with their schema). A text sqlglot cannot parse is fingerprinted as its whitespace-collapsed self."""
    import sqlglot
    from sqlglot import exp

    try:
        tree = sqlglot.parse_one(sql, read=dialect)
    except (sqlglot.errors.ParseError, sqlglot.errors.TokenError, ValueError, RecursionError):
        return _sha(" ".join(sql.split())), []
    if tree is None:
        return _sha(" ".join(sql.split())), []
    text = tree.sql(dialect="duckdb", normalize=True, pretty=False)
    # a mart by its name; anything else (a refused query's raw.x) with its schema
    marts = sorted(
        {
            t.name.lower() if t.db.lower() == "marts" else ".".join(p for p in (t.db, t.name) if p).lower()
            for t in tree.find_all(exp.Table)
            if t.name
        }
    )
    return _sha(text), marts


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def os_user() -> str | None:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container)
        return str(os.getuid()) if hasattr(os, "getuid") else None


def append_to_spool(home: Path, access: Access) -> None:
    """One JSON line, appended with O_APPEND (a line this short is written whole)."""
    path = spool_path(home)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    record = asdict(access) | {"at": access.at.isoformat()}
    line = (json.dumps(record, separators=(",", ":")) + "\n").encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


@contextmanager
def logged(
    home: Path, sql: str, dialect: str = "duckdb", channel: str = "civic query", role: str | None = None
) -> Iterator[dict[str, Any]]:
    """Log one query run inside the block: the caller sets `rows` and `outcome` in the
    dict it gets (an exception that escapes counts as `failed`)."""
    started = time.perf_counter()
    outcome: dict[str, Any] = {"rows": None, "outcome": "failed"}
    try:
        yield outcome
    finally:
        fingerprint, marts = query_facts(sql, dialect)
        append_to_spool(
            home,
            Access(
                entry_id=uuid.uuid4().hex,
                at=dt.datetime.now(dt.UTC),
                os_user=os_user(),
                role=role,
                channel=channel,
                marts=",".join(marts),
                sql_fingerprint=fingerprint,
                rows=outcome["rows"],
                outcome=outcome["outcome"],
                refused=outcome["outcome"] == "refused",
                milliseconds=round((time.perf_counter() - started) * 1000, 3),
            ),
        )


def logged_query(settings, sql: str, dialect: str = "duckdb"):
    """`lake.marts_query.run_query` on the settings' marts-only file, logged (refused,
    stopped by a limit or failed as well)."""
    from lake.marts_query import QueryLimitHit, limits_from, run_query
    from lake.sql_guard import QueryRefused

    with logged(settings.home, sql, dialect) as log:
        try:
            result = run_query(settings.marts_path, sql, limits_from(settings), dialect=dialect)
        except QueryRefused:
            log["outcome"] = "refused"
            raise
        except QueryLimitHit:
            log["outcome"] = "limit"
            raise
        log.update(rows=len(result.rows), outcome="truncated" if result.truncated else "ok")
        return result


def _read_spools(files: list[Path]) -> list[dict]:
    rows = []
    for path in files:
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:  # a line cut by a crash mid-write: nothing to keep
                continue
            record["at"] = dt.datetime.fromisoformat(record["at"])
            rows.append(record)
    return rows


def flush_spool(catalog: Catalog, home: Path) -> int:
    """Move the spooled entries into governance.access_log (one commit); returns how many.
    The caller holds the catalog write lock."""
    spool = spool_path(home)
    if spool.exists():
        os.replace(spool, spool.with_name(f"{SPOOL_NAME}.{uuid.uuid4().hex}.flushing"))
    pending = sorted(spool.parent.glob(f"{SPOOL_NAME}.*.flushing")) if spool.parent.is_dir() else []
    if not pending:
        return 0
    from lake.tables import ensure_table

    rows = list({r["entry_id"]: r for r in _read_spools(pending)}.values())  # a pull spooled twice: once
    catalog.create_namespace_if_not_exists(ACCESS_LOG_NAMESPACE)
    table = ensure_table(catalog, ACCESS_LOG_TABLE, ACCESS_ARROW, partition_by=())
    if table.current_snapshot() is not None:  # a flush killed after its commit: not twice
        known = set(table.scan(selected_fields=("entry_id",)).to_arrow()["entry_id"].to_pylist())
        rows = [r for r in rows if r["entry_id"] not in known]
    if rows:
        table.append(pa.Table.from_pylist(rows, schema=ACCESS_ARROW))
    for path in pending:
        path.unlink()
    return len(rows)


def read_access_log(catalog: Catalog, month: str | None = None) -> list[dict]:
    """The logged accesses (of one `YYYY-MM`, UTC), oldest first."""
    if not catalog.table_exists(ACCESS_LOG_TABLE):
        return []
    rows = catalog.load_table(ACCESS_LOG_TABLE).scan().to_arrow().to_pylist()
    if month is not None:
        rows = [r for r in rows if r["at"].strftime("%Y-%m") == month]
    return sorted(rows, key=lambda r: r["at"])


REPORT_COLUMNS = ("month", "os_user", "role", "mart", "queries", "refused", "rows", "first_at", "last_at")


def monthly_report(accesses: list[dict]) -> list[tuple]:
    """Who read what, per month: one row per month, user, role and mart (a query over two
    marts counts for each; a refused query naming none is listed under mart `-`)."""
    groups: dict[tuple, dict] = {}
    for a in accesses:
        month = a["at"].strftime("%Y-%m")
        for mart in (a["marts"] or "-").split(","):
            g = groups.setdefault(
                (month, a["os_user"] or "", a["role"] or "", mart),
                {"queries": 0, "refused": 0, "rows": 0, "first": a["at"], "last": a["at"]},
            )
            g["queries"] += 1
            g["refused"] += bool(a["refused"])
            g["rows"] += a["rows"] or 0
            g["first"], g["last"] = min(g["first"], a["at"]), max(g["last"], a["at"])
    return [
        (
            key[0],
            key[1] or None,
            key[2] or None,
            key[3],
            g["queries"],
            g["refused"],
            g["rows"],
            _minute(g["first"]),
            _minute(g["last"]),
        )
        for key, g in sorted(groups.items())
    ]


def _minute(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")
