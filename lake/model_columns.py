"""The columns of the dbt build's tables and views with their DuckDB types, for the column
schema the Dagster UI shows and the parents' columns the column lineage resolves against.

Read from information_schema over the read-only connection of the row counts
(lake/model_counts.py), after `dbt build` has exited: one query for every relation.
"""

from __future__ import annotations

import duckdb

Relation = tuple[str, str]  # (schema, table)


def table_columns(con: duckdb.DuckDBPyConnection) -> dict[Relation, dict[str, str]]:
    """(schema, table) -> {column: DuckDB type}, in the table's column order."""
    columns: dict[Relation, dict[str, str]] = {}
    for schema, table, column, kind in con.execute(
        """
        select table_schema, table_name, column_name, data_type
        from information_schema.columns
        order by table_schema, table_name, ordinal_position
        """
    ).fetchall():
        columns.setdefault((schema, table), {})[column] = kind
    return columns
