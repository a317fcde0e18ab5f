"""Run a guarded read-only query against the marts in the DuckDB file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from lake.sql_guard import guard


@dataclass
class QueryResult:
    columns: list[str]
    rows: list[tuple]


def connect_read_only(duckdb_path: Path) -> duckdb.DuckDBPyConnection:
    """A connection that cannot write, reach files or URLs, or change its own settings."""
    if not Path(duckdb_path).exists():
        raise FileNotFoundError(f"no marts database at {duckdb_path}: run `civic refresh` or `civic demo` first")
    con = duckdb.connect(str(duckdb_path), read_only=True, config={"enable_external_access": False})
    con.execute("SET lock_configuration = true")
    return con


def run_query(duckdb_path: Path, sql: str) -> QueryResult:
    tree = guard(sql)
    with connect_read_only(duckdb_path) as con:
        cur = con.execute(tree.sql(dialect="duckdb"))
        columns = [d[0] for d in cur.description]
        return QueryResult(columns, cur.fetchall())
