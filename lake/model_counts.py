"""Rows of the dbt build's tables per fiscal year, for the row counts the Dagster UI shows.

Read after `dbt build` has exited (it holds DuckDB's write lock while it runs), over one
read-only connection (`built_models`, which also reads the columns, lake/model_columns.py).
Views are not counted: counting one reruns its query over the raw
scans. A table with a `fiscal_year` column is counted per year of the build, others whole.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from lake.model_columns import Relation, table_columns


@dataclass
class TableCount:
    rows: int
    by_year: dict[int, int] = field(default_factory=dict)  # empty: the table has no fiscal_year


@dataclass
class BuiltModels:
    counts: dict[Relation, TableCount]
    columns: dict[Relation, dict[str, str]]  # every table and view of the file


def built_models(duckdb_path: Path, tables: list[Relation], years: list[int]) -> BuiltModels:
    """Row counts of `tables` and the columns of every relation, over one connection."""
    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        return BuiltModels(counts=count_tables(con, tables, years), columns=table_columns(con))


def count_tables(
    con: duckdb.DuckDBPyConnection, tables: list[Relation], years: list[int]
) -> dict[Relation, TableCount]:
    """(schema, table) -> its rows (and per fiscal year of `years`), for those that are tables."""
    counts: dict[Relation, TableCount] = {}
    kinds = {
        (s, t): (kind, has_year)
        for s, t, kind, has_year in con.execute(
            """
            select t.table_schema, t.table_name, t.table_type,
                   bool_or(c.column_name = 'fiscal_year')
            from information_schema.tables t
            join information_schema.columns c using (table_catalog, table_schema, table_name)
            group by all
            """
        ).fetchall()
    }
    for schema, table in tables:
        kind, has_year = kinds.get((schema, table), (None, False))
        if kind != "BASE TABLE":
            continue
        name = f'"{schema}"."{table}"'
        (rows,) = con.execute(f"select count(*) from {name}").fetchone() or (0,)
        count = counts[schema, table] = TableCount(rows=rows)
        if has_year:
            found = dict(
                con.execute(
                    f"select fiscal_year, count(*) from {name} "
                    "where fiscal_year in (select unnest(?::int[])) group by 1",
                    [years],
                ).fetchall()
            )
            count.by_year = {y: found.get(y, 0) for y in years}
    return counts
