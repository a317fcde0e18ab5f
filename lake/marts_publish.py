"""Publish the marts dbt built in DuckDB to the Iceberg `marts` namespace, per fiscal year.

BI tools that read Iceberg (Trino, Spark, DuckDB elsewhere) see the same marts as
`civic query`; each refreshed year is replaced in one commit per mart. A mart without a
year (marts.data_use) is replaced whole, unpartitioned, at every publication.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
from pyiceberg.catalog import Catalog

from lake.commit import equal_to, partition_filter
from lake.tables import ensure_table, iceberg_compatible

YEAR_COLUMNS = ("fiscal_year", "plan_year")


def list_marts(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """(mart name, its year column) for every table of schema `marts` that has one."""
    rows = con.execute(
        """
        select t.table_name, c.column_name
        from information_schema.tables t
        join information_schema.columns c using (table_schema, table_name)
        where t.table_schema = 'marts' and t.table_type = 'BASE TABLE'
          and c.column_name in ('fiscal_year', 'plan_year')
        order by t.table_name, c.column_name
        """
    ).fetchall()
    marts: dict[str, str] = {}
    for name, col in rows:
        marts.setdefault(name, col)
    return sorted(marts.items())


def yearless_marts(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Tables of schema `marts` with neither year column: replaced whole."""
    with_years = dict(list_marts(con))
    names = con.execute(
        "select table_name from information_schema.tables "
        "where table_schema = 'marts' and table_type = 'BASE TABLE' order by table_name"
    ).fetchall()
    return [n for (n,) in names if n not in with_years]


@dataclass
class MartPublication:
    """What one mart's publication committed: its rows and the snapshot of each year's
    commit (a year of a plan mart is a plan year), and the table's snapshot after it."""

    rows: int = 0
    rows_by_year: dict[int, int] = field(default_factory=dict)
    snapshot_by_year: dict[int, int] = field(default_factory=dict)
    snapshot_id: int | None = None


def publish_marts(
    catalog: Catalog,
    duckdb_path: Path,
    years: list[int],
    properties: dict[str, str],
    only: set[str] | None = None,
) -> dict[str, MartPublication]:
    """Replace `years` of every mart (or of the marts named in `only`) in Iceberg; what
    was published, per mart."""
    published: dict[str, MartPublication] = {}
    props = {k: str(v) for k, v in properties.items()}
    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        for mart, year_col in list_marts(con):
            if only is not None and mart not in only:
                continue
            if year_col == "fiscal_year":
                data = con.execute(
                    f'select * from marts."{mart}" where fiscal_year in (select unnest(?::int[]))', [years]
                ).to_arrow_table()
            else:  # a plan is rebuilt from the newest year: publish the plan years it holds
                data = con.execute(f'select * from marts."{mart}"').to_arrow_table()
            data = data.cast(iceberg_compatible(data.schema))
            table = ensure_table(catalog, f"marts.{mart}", data.schema, partition_by=(year_col,))
            years_here = years if year_col == "fiscal_year" else sorted(set(data[year_col].to_pylist()))
            pub = published[mart] = MartPublication(rows=data.num_rows)
            for year in years_here:
                part = data.filter(pa.compute.equal(data[year_col], year))
                with warnings.catch_warnings():
                    warnings.filterwarnings("ignore", message="Delete operation did not match any records")
                    table.overwrite(part, overwrite_filter=_year_filter(year_col, year), snapshot_properties=props)
                pub.rows_by_year[year] = part.num_rows
                if (snap := table.current_snapshot()) is not None:
                    pub.snapshot_by_year[year] = snap.snapshot_id
            pub.snapshot_id = _snapshot_id(table)
        for mart in yearless_marts(con):
            if only is not None and mart not in only:
                continue
            data = con.execute(f'select * from marts."{mart}"').to_arrow_table()
            data = data.cast(iceberg_compatible(data.schema))
            table = ensure_table(catalog, f"marts.{mart}", data.schema, partition_by=())
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message="Delete operation did not match any records")
                table.overwrite(data, snapshot_properties=props)
            published[mart] = MartPublication(rows=data.num_rows, snapshot_id=_snapshot_id(table))
    return published


def _snapshot_id(table) -> int | None:
    snap = table.current_snapshot()
    return None if snap is None else snap.snapshot_id


def _year_filter(year_col: str, year: int):
    if year_col == "fiscal_year":
        return partition_filter(year)
    return equal_to(year_col, year)
