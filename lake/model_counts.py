"""Rows of the dbt build's tables per fiscal year, for the row counts the Dagster UI shows.

Read after `dbt build` has exited (it holds DuckDB's write lock while it runs), over one
read-only connection. Views are not counted: counting one reruns its query over the raw
scans. A table with a `fiscal_year` column is counted per year of the build, others whole.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb


@dataclass
class TableCount:
    rows: int
    by_year: dict[int, int] = field(default_factory=dict)  # empty: the table has no fiscal_year


def count_tables(
    duckdb_path: Path, tables: list[tuple[str, str]], years: list[int]
) -> dict[tuple[str, str], TableCount]:
    """(schema, table) -> its rows (and per fiscal year of `years`), for those that are tables."""
    counts: dict[tuple[str, str], TableCount] = {}
    with duckdb.connect(str(duckdb_path), read_only=True) as con:
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
