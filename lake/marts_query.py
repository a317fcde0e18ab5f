"""Run a guarded read-only query against the marts in a DuckDB file.

`civic query` and BI tools read the marts-only file (lake/marts_file.py): it holds schema
`marts` and nothing else, so even DuckDB's system views show only the marts. On top of
the guard (lake/sql_guard.py) the connection is locked down by DuckDB itself (no files,
URLs or extensions, configuration locked) and bounded: a statement time limit, a memory
limit, a thread count and a row limit on results (`QueryLimits`, from settings).

Opening the file costs most of a small query (about 25 of 30 ms); `marts_session` keeps
one read-only connection for the queries of a bounded stretch of work (a report, a
benchmark). Since the marts-only file is replaced, never rewritten, an open connection
does not hold up a refresh: it keeps reading the marts it opened.
"""

from __future__ import annotations

import difflib
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

from lake.sql_guard import judge


@dataclass(frozen=True)
class QueryLimits:
    """Bounds on one query (CIVIC_QUERY_TIMEOUT, CIVIC_QUERY_MEMORY, CIVIC_QUERY_MAX_ROWS,
    CIVIC_QUERY_THREADS)."""

    timeout_seconds: float = 30.0
    memory_limit: str = "1GB"
    max_rows: int = 100_000
    threads: int = 2


class QueryFailed(duckdb.Error):
    """A query that passed the guard failed in DuckDB: one line, naming nothing but marts."""


class QueryLimitHit(QueryFailed):
    """A query ran into one of its limits."""


@dataclass
class QueryResult:
    columns: list[str]
    rows: list[tuple]
    truncated: bool = False  # more rows than the row limit: `rows` holds the first ones

    def records(self) -> list[dict]:
        """The rows as {column: value} (for callers that read by name)."""
        return [dict(zip(self.columns, row)) for row in self.rows]


def _config(limits: QueryLimits) -> dict:
    # Set at connect time, not by a later SET: a second connection to a file this process
    # has open joins the same database, where a SET of the locked configuration is refused.
    return {
        "enable_external_access": False,
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
        "python_enable_replacements": False,
        "memory_limit": limits.memory_limit,
        "threads": limits.threads,
        "lock_configuration": True,
    }


def connect_read_only(duckdb_path: Path, limits: QueryLimits | None = None) -> duckdb.DuckDBPyConnection:
    """A connection that cannot write, reach files or URLs, or change its own settings."""
    if not Path(duckdb_path).exists():
        raise FileNotFoundError(f"no marts database at {duckdb_path}: run `civic refresh` or `civic demo` first")
    return duckdb.connect(str(duckdb_path), read_only=True, config=_config(limits or QueryLimits()))


@dataclass
class _Session:
    connection: duckdb.DuckDBPyConnection
    users: int = 1


_sessions: dict[Path, _Session] = {}
_sessions_lock = threading.Lock()


@contextmanager
def marts_session(duckdb_path: Path, limits: QueryLimits | None = None) -> Iterator[None]:
    """Reuse one read-only connection for every `run_query` on this file inside the block
    (any thread; nested blocks share it)."""
    key = Path(duckdb_path).resolve()
    with _sessions_lock:
        session = _sessions.get(key)
        if session is None:
            _sessions[key] = session = _Session(connect_read_only(key, limits))
        else:
            session.users += 1
    try:
        yield
    finally:
        with _sessions_lock:
            session.users -= 1
            if session.users == 0:
                del _sessions[key]
                session.connection.close()


def _fetch(con: duckdb.DuckDBPyConnection, sql: str, limits: QueryLimits) -> QueryResult:
    """Run `sql` with the time limit (DuckDB interrupts it) and fetch at most max_rows rows."""
    stopped = threading.Event()

    def stop() -> None:
        stopped.set()
        con.interrupt()

    timer = threading.Timer(limits.timeout_seconds, stop)
    timer.daemon = True
    timer.start()
    try:
        cur = con.execute(sql)
        columns = [d[0] for d in cur.description]
        rows = cur.fetchmany(limits.max_rows + 1)
    except duckdb.Error as err:
        if stopped.is_set() or isinstance(err, duckdb.InterruptException):
            raise QueryLimitHit(
                f"ran into its time limit of {limits.timeout_seconds:g} s (CIVIC_QUERY_TIMEOUT): filter or aggregate more"
            ) from None
        if isinstance(err, duckdb.OutOfMemoryException) or "Out of Memory" in str(err):
            raise QueryLimitHit(
                f"ran into its memory limit of {limits.memory_limit} (CIVIC_QUERY_MEMORY): filter or aggregate more"
            ) from None
        raise QueryFailed(clean_error(str(err), lambda: _marts_tables(con))) from None
    finally:
        timer.cancel()
    truncated = len(rows) > limits.max_rows
    return QueryResult(columns, rows[: limits.max_rows], truncated)


def run_query(duckdb_path: Path, sql: str, limits: QueryLimits | None = None, dialect: str = "duckdb") -> QueryResult:
    """Judge `sql` (QueryRefused if it is not a read-only query over the marts), then run it."""
    limits = limits or QueryLimits()
    query = judge(sql, dialect).sql
    with _sessions_lock:
        session = _sessions.get(Path(duckdb_path).resolve()) if _sessions else None
        cursor = session.connection.cursor() if session else None  # one cursor per query and thread
    if cursor is not None:
        with cursor:
            return _fetch(cursor, query, limits)
    with connect_read_only(duckdb_path, limits) as con:
        return _fetch(con, query, limits)


def _marts_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    sql = "select table_name from information_schema.tables where table_schema = 'marts'"
    return {name for (name,) in con.execute(sql).fetchall()}


_DID_YOU_MEAN = re.compile(r"Did you mean", re.IGNORECASE)


def clean_error(message: str, marts_tables) -> str:
    """DuckDB's error as one line, with every hint dropped (a hint can name any object of
    the catalogue); a missing table gets a suggestion among the marts alone."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    first = re.sub(r"^[\w ]+ Error:\s*", "", lines[0]) if lines else message.strip()
    first = re.split(r"\s*" + _DID_YOU_MEAN.pattern, first, flags=re.IGNORECASE)[0].rstrip()
    bindings = [line for line in lines[1:] if line.startswith("Candidate bindings:")]  # columns in the query
    if bindings:
        return f"{first} {bindings[0]}"
    missing = re.search(r'Table with name "?([^"!\s]+)"? does not exist', first)
    if missing:
        close = difflib.get_close_matches(missing.group(1).lower(), sorted(marts_tables()), n=1, cutoff=0.6)
        if close:
            return f'{first.rstrip("!")}: did you mean "marts.{close[0]}"?'
    return first


def limits_from(settings) -> QueryLimits:
    """The query limits of a `lake.settings.Settings`."""
    return QueryLimits(
        timeout_seconds=settings.query_timeout_seconds,
        memory_limit=settings.query_memory_limit,
        max_rows=settings.query_max_rows,
        threads=settings.query_threads,
    )
