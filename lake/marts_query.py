"""Run a guarded read-only query against the marts in the DuckDB file.

Opening the file costs most of a small query (about 25 of 30 ms), but an open connection
holds DuckDB's file lock, so no refresh can write the marts meanwhile. Hence a query
opens and closes its own connection, unless it runs inside `marts_session`, which keeps
one read-only connection for the queries of a bounded stretch of work (a report, a
benchmark, a BI session that knows no refresh runs meanwhile).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

from lake.sql_guard import guard

# Set at connect time, not by a later SET: a second connection to a file this process has
# open joins the same database, where a SET of the locked configuration is refused.
_READ_ONLY_CONFIG = {"enable_external_access": False, "lock_configuration": True}


@dataclass
class QueryResult:
    columns: list[str]
    rows: list[tuple]

    def records(self) -> list[dict]:
        """The rows as {column: value} (for callers that read by name)."""
        return [dict(zip(self.columns, row)) for row in self.rows]


def connect_read_only(duckdb_path: Path) -> duckdb.DuckDBPyConnection:
    """A connection that cannot write, reach files or URLs, or change its own settings."""
    if not Path(duckdb_path).exists():
        raise FileNotFoundError(f"no marts database at {duckdb_path}: run `civic refresh` or `civic demo` first")
    return duckdb.connect(str(duckdb_path), read_only=True, config=dict(_READ_ONLY_CONFIG))


@dataclass
class _Session:
    connection: duckdb.DuckDBPyConnection
    users: int = 1


_sessions: dict[Path, _Session] = {}
_sessions_lock = threading.Lock()


@contextmanager
def marts_session(duckdb_path: Path) -> Iterator[None]:
    """Reuse one read-only connection for every `run_query` on this file inside the block
    (any thread; nested blocks share it). The file stays read-locked until the block ends."""
    key = Path(duckdb_path).resolve()
    with _sessions_lock:
        session = _sessions.get(key)
        if session is None:
            _sessions[key] = session = _Session(connect_read_only(key))
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


def _fetch(con: duckdb.DuckDBPyConnection, sql: str) -> QueryResult:
    cur = con.execute(sql)
    return QueryResult([d[0] for d in cur.description], cur.fetchall())


def run_query(duckdb_path: Path, sql: str) -> QueryResult:
    tree = guard(sql)
    query = tree.sql(dialect="duckdb")
    with _sessions_lock:
        session = _sessions.get(Path(duckdb_path).resolve()) if _sessions else None
        cursor = session.connection.cursor() if session else None  # one cursor per query and thread
    if cursor is not None:
        with cursor:
            return _fetch(cursor, query)
    with connect_read_only(duckdb_path) as con:
        return _fetch(con, query)
