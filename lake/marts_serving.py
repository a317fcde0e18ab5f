"""Publish the marts into the serving database (PostgreSQL) that BI tools connect to.

BI tools (Superset, Metabase, Tableau, Power BI, Grafana, Excel) speak the PostgreSQL
protocol and send catalogue queries only a real PostgreSQL answers, so the marts are
copied there after every refresh, into schema `marts`:

- each fiscal year of every mart is replaced in one transaction (DELETE the year, COPY
  its rows): a BI query sees the old year or the new one, never half of it, and never one
  mart's new year beside another's old one;
- rows move as Arrow record batches through ADBC's PostgreSQL driver (binary COPY),
  streamed from a read-only DuckDB connection, never row by row;
- the tables follow the marts: a first publication creates them with types mapped from
  the Arrow schema, a new mart column is added, a changed type is altered; a column the
  mart no longer has stays (null in the years published since) so dashboards built on it
  keep running; table and column comments come from the dbt docs (the dictionary);
- once `civic serve setup` has set up the audit, a new table gets the row-level policy
  that logs every read of it (lake.serving_audit) in the same transaction.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from lake.marts_dictionary import MartDoc
from lake.marts_publish import list_marts
from lake.serving_audit import ensure_policies, policy_sql

SCHEMA = "marts"
BATCH_ROWS = 65_536
GONE_NOTE = "No longer a column of the mart: null in the fiscal years published since it was dropped."


class ServingError(RuntimeError):
    """The serving database cannot take the marts (unreachable, missing, a type it cannot hold)."""


# --- types -------------------------------------------------------------------------------


def pg_compatible(schema: pa.Schema) -> pa.Schema:
    """The schema the batches are cast to before COPY: PostgreSQL has no unsigned
    integers, half floats or view types."""
    return pa.schema([pa.field(f.name, _compatible(f.type), nullable=True) for f in schema])


def _compatible(t: pa.DataType) -> pa.DataType:
    if pa.types.is_uint8(t):
        return pa.int16()
    if pa.types.is_uint16(t):
        return pa.int32()
    if pa.types.is_uint32(t):
        return pa.int64()
    if pa.types.is_uint64(t):
        return pa.decimal128(20, 0)
    if pa.types.is_float16(t):
        return pa.float32()
    if pa.types.is_string_view(t) or pa.types.is_large_string(t):
        return pa.string()
    if pa.types.is_binary_view(t) or pa.types.is_large_binary(t):
        return pa.binary()
    if pa.types.is_date64(t):
        return pa.date32()
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return pa.list_(_compatible(t.value_type))
    return t


def pg_type(t: pa.DataType) -> str:
    """The PostgreSQL type of an Arrow type, spelled as `format_type` spells it (so an
    existing column's type compares equal)."""
    if pa.types.is_boolean(t):
        return "boolean"
    if pa.types.is_int8(t) or pa.types.is_int16(t):
        return "smallint"
    if pa.types.is_int32(t):
        return "integer"
    if pa.types.is_int64(t):
        return "bigint"
    if pa.types.is_float32(t):
        return "real"
    if pa.types.is_float64(t):
        return "double precision"
    if pa.types.is_decimal(t):
        return f"numeric({t.precision},{t.scale})"
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return "text"
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_binary_view(t):
        return "bytea"
    if pa.types.is_date(t):
        return "date"
    if pa.types.is_timestamp(t):
        return "timestamp with time zone" if t.tz else "timestamp without time zone"
    if pa.types.is_time(t):
        return "time without time zone"
    if pa.types.is_duration(t):
        return "interval"
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return f"{pg_type(t.value_type)}[]"
    raise ServingError(f"no PostgreSQL type for Arrow type {t}: cast the column in the mart's SQL")


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    """A string constant (standard_conforming_strings is on since PostgreSQL 9.1)."""
    if "\x00" in text:
        raise ServingError("a comment cannot hold a NUL character")
    return "'" + text.replace("'", "''") + "'"


# --- DDL: what the tables need to follow the marts -------------------------------------------


@dataclass(frozen=True)
class MartShape:
    """A mart as the serving database sees it: its name, Arrow schema and year column
    (None: a mart without years, replaced whole)."""

    name: str
    schema: pa.Schema
    year_column: str | None


def table_ddl(mart: MartShape, existing: dict[str, str] | None) -> list[str]:
    """Statements that make `marts.<name>` hold the mart's columns, given the columns the
    table has now (name -> format_type), or None when there is no table yet."""
    table = f"{SCHEMA}.{quote_ident(mart.name)}"
    if existing is None:
        columns = ", ".join(f"{quote_ident(f.name)} {pg_type(f.type)}" for f in mart.schema)
        ddl = [f"CREATE TABLE {table} ({columns})"]
        if mart.year_column:
            index = quote_ident(f"{mart.name}_{mart.year_column}_idx")
            ddl.append(f"CREATE INDEX {index} ON {table} ({quote_ident(mart.year_column)})")
        return ddl
    ddl = []
    for f in mart.schema:
        wanted = pg_type(f.type)
        if f.name not in existing:
            ddl.append(f"ALTER TABLE {table} ADD COLUMN {quote_ident(f.name)} {wanted}")
        elif existing[f.name] != wanted:
            col = quote_ident(f.name)
            ddl.append(f"ALTER TABLE {table} ALTER COLUMN {col} TYPE {wanted} USING {col}::{wanted}")
    return ddl


def comments(mart: MartShape, doc: MartDoc | None, kept: Sequence[str] = ()) -> dict[tuple[str, str | None], str]:
    """(table, column or None) -> the comment it should carry, from the dictionary; `kept`
    are the columns the table still has but the mart dropped."""
    wanted: dict[tuple[str, str | None], str] = {}
    if doc is not None:
        text = doc.description
        if doc.grain and "grain:" not in text.lower():  # most descriptions say it already
            text = f"{text} Grain: {doc.grain}.".strip()
        if text:
            wanted[(mart.name, None)] = text
        for col in doc.columns:
            if col.description and col.name in mart.schema.names:
                wanted[(mart.name, col.name)] = col.description
    for name in kept:
        wanted[(mart.name, name)] = GONE_NOTE
    return wanted


def comment_sql(table: str, column: str | None, text: str) -> str:
    target = f"{SCHEMA}.{quote_ident(table)}" + (f".{quote_ident(column)}" if column else "")
    return f"COMMENT ON {'COLUMN' if column else 'TABLE'} {target} IS {quote_literal(text)}"


# --- reading the marts from DuckDB ------------------------------------------------------------


def mart_shapes(con: duckdb.DuckDBPyConnection) -> list[MartShape]:
    """Every table of DuckDB's schema `marts`, with its Arrow schema (read from the data,
    never from a list of columns kept here: the marts grow)."""
    with_years = dict(list_marts(con))
    names = [
        n
        for (n,) in con.execute(
            "select table_name from information_schema.tables "
            "where table_schema = 'marts' and table_type = 'BASE TABLE' order by table_name"
        ).fetchall()
    ]
    shapes = []
    for name in names:
        schema = con.execute(f"select * from {duckdb_table(con, name)} limit 0").to_arrow_table().schema
        shapes.append(MartShape(name, pg_compatible(schema), with_years.get(name)))
    return shapes


def duckdb_table(con: duckdb.DuckDBPyConnection, name: str) -> str:
    """`<file>.marts.<name>`: a DuckDB file itself called `marts.duckdb` makes a bare
    `marts.<name>` ambiguous (catalog or schema)."""
    row = con.execute("select current_database()").fetchone()
    return f"{quote_ident(str(row[0]))}.marts.{quote_ident(name)}" if row else f"marts.{quote_ident(name)}"


def _batches(con: duckdb.DuckDBPyConnection, sql: str, params: list, schema: pa.Schema, batch_rows: int):
    reader = con.execute(sql, params).to_arrow_reader(batch_rows)

    def cast() -> Iterator[pa.RecordBatch]:
        for batch in reader:
            yield batch.cast(schema) if batch.schema != schema else batch

    return pa.RecordBatchReader.from_batches(schema, cast())


# --- the publication -----------------------------------------------------------------------------


def connect_serving(uri: str):
    """An ADBC connection to the serving database (autocommit off: every publication step
    is a transaction of its own)."""
    import adbc_driver_postgresql.dbapi as pg

    try:
        return pg.connect(uri)
    except pg.Error as err:
        raise ServingError(
            f"cannot connect to the serving database ({_redacted(uri)}): {' '.join(str(err).split())}; "
            "is CIVIC_SERVING_URI right, and has `civic serve setup` created it?"
        ) from None


def _adbc_error() -> type[Exception]:
    import adbc_driver_postgresql.dbapi as pg

    return pg.Error


def _redacted(uri: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(uri)
    if parts.password:
        return uri.replace(f":{parts.password}@", ":***@")
    return uri


def _existing_tables(cur) -> dict[str, dict[str, str]]:
    cur.execute(
        """
        select c.relname, a.attname, format_type(a.atttypid, a.atttypmod)
        from pg_class c
        join pg_namespace n on n.oid = c.relnamespace
        join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
        where n.nspname = 'marts' and c.relkind in ('r', 'p')
        order by c.relname, a.attnum
        """
    )
    tables: dict[str, dict[str, str]] = {}
    for table, column, type_name in cur.fetchall():
        tables.setdefault(table, {})[column] = type_name
    return tables


def _existing_comments(cur) -> dict[tuple[str, str | None], str]:
    cur.execute(
        """
        select c.relname, a.attname, d.description
        from pg_description d
        join pg_class c on c.oid = d.objoid and d.classoid = 'pg_class'::regclass
        join pg_namespace n on n.oid = c.relnamespace
        left join pg_attribute a on a.attrelid = c.oid and a.attnum = d.objsubid
        where n.nspname = 'marts'
        """
    )
    return {(t, c): text for t, c, text in cur.fetchall()}


def prepare_tables(cur, shapes: list[MartShape], dictionary: list[MartDoc]) -> list[str]:
    """Create or evolve the tables and set their comments; returns the statements run.
    Comments are only written when they changed (a refresh without a dbt docs change runs
    no DDL, and so takes no lock a BI query would wait behind)."""
    docs = {d.name: d for d in dictionary}
    cur.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    existing = _existing_tables(cur)
    have = _existing_comments(cur)
    run: list[str] = []
    for shape in shapes:
        columns = existing.get(shape.name)
        statements = table_ddl(shape, columns)
        kept = [c for c in (columns or {}) if c not in shape.schema.names]
        for (table, column), text in comments(shape, docs.get(shape.name), kept).items():
            if have.get((table, column)) != text:
                statements.append(comment_sql(table, column, text))
        for stmt in statements:
            cur.execute(stmt)
        run += statements
    for table in ensure_policies(cur):  # a new table's reads are logged from its first commit
        run += policy_sql(table)
    return run


def publish_to_serving(
    uri: str,
    duckdb_path: Path,
    years: Sequence[int],
    dictionary: list[MartDoc],
    batch_rows: int = BATCH_ROWS,
    on_commit: Callable[[str], None] | None = None,
) -> dict[str, int]:
    """Replace `years` of every mart in the serving database; return rows published per
    mart. One transaction for the tables' DDL, then one per fiscal year holding every mart
    of that year; the marts of plan years (or of no year) go with the last year's."""
    years = sorted(set(years))
    if not years:
        return {}
    published: dict[str, int] = {}
    with duckdb.connect(str(duckdb_path), read_only=True) as duck:
        shapes = mart_shapes(duck)
        pg = connect_serving(uri)
        step = "the tables' DDL"
        try:
            with pg.cursor() as cur:
                prepare_tables(cur, shapes, dictionary)
                pg.commit()
                for year in years:
                    step = f"FY{year}"
                    for shape in shapes:
                        rows = _replace(duck, cur, shape, year, last=year == years[-1], batch_rows=batch_rows)
                        if rows is not None:
                            published[shape.name] = published.get(shape.name, 0) + rows
                    pg.commit()
                    if on_commit:
                        on_commit(f"FY{year}")
                for shape in shapes:  # planner statistics for the rows just replaced
                    cur.execute(f"ANALYZE {SCHEMA}.{quote_ident(shape.name)}")
                pg.commit()
        except BaseException as err:
            with contextlib.suppress(Exception):  # a dead connection must not hide the error
                pg.rollback()
            if isinstance(err, _adbc_error()):
                raise ServingError(
                    f"publication to the serving database failed at {step} (rolled back: that year is "
                    f"unchanged, the years before it are published): {' '.join(str(err).split())}"
                ) from err
            raise
        finally:
            pg.close()
    return published


def _replace(duck, cur, shape: MartShape, year: int, last: bool, batch_rows: int) -> int | None:
    """DELETE then COPY one year of one mart, inside the caller's transaction; None when
    this mart has nothing to do for this year."""
    table = f"{SCHEMA}.{quote_ident(shape.name)}"
    source = duckdb_table(duck, shape.name)
    if shape.year_column == "fiscal_year":
        cur.execute(f"DELETE FROM {table} WHERE fiscal_year = {int(year)}")
        sql, params = f"select * from {source} where fiscal_year = ?", [year]
    elif not last:
        return None
    elif shape.year_column:  # a plan is rebuilt from the newest year: replace the years it holds
        col = quote_ident(shape.year_column)
        held = [
            int(y) for (y,) in duck.execute(f"select distinct {col} from {source} where {col} is not null").fetchall()
        ]
        cur.execute(f"DELETE FROM {table} WHERE {col} IN ({', '.join(map(str, held)) or 'NULL'})")
        sql, params = f"select * from {source}", []
    else:
        cur.execute(f"DELETE FROM {table}")
        sql, params = f"select * from {source}", []
    reader = _batches(duck, sql, params, shape.schema, batch_rows)
    return int(cur.adbc_ingest(shape.name, reader, mode="append", db_schema_name=SCHEMA))
