"""Read-only SQL for BI tools: one SELECT over the marts, nothing else (docs/architecture.md, Pitfalls: a DuckDB SELECT can read files).

sqlglot parses the query; it is refused when it is not exactly one statement, when any
node of its tree (CTEs and subqueries included) writes, changes settings or schemas,
when it calls a function that can reach files, URLs, secrets or the environment, or
when it names a table outside the allowed schemas.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError


class QueryRefused(ValueError):
    """The query is not a read-only SELECT over the marts."""


_FORBIDDEN_NODES = tuple(
    getattr(exp, name)
    for name in (
        "Insert",
        "Update",
        "Delete",
        "Merge",
        "Create",
        "Drop",
        "Alter",
        "AlterTable",
        "Copy",
        "Command",
        "Pragma",
        "Set",
        "Attach",
        "Detach",
        "Use",
        "TruncateTable",
        "Grant",
        "Revoke",
        "Transaction",
        "Commit",
        "Rollback",
        "LoadData",
        "Install",
        "Export",
        "Describe",
        "Cache",
        "Uncache",
        "Refresh",
        "Into",
    )
    if hasattr(exp, name)
)

# Functions that read or reveal anything outside the marts.
_FORBIDDEN_FUNCTIONS = {
    "read_csv",
    "read_csv_auto",
    "read_parquet",
    "parquet_scan",
    "read_json",
    "read_json_auto",
    "read_json_objects",
    "read_ndjson",
    "read_ndjson_auto",
    "read_text",
    "read_blob",
    "glob",
    "getenv",
    "current_setting",
    "duckdb_settings",
    "duckdb_secrets",
    "duckdb_extensions",
    "duckdb_databases",
    "load_extension",
    "install_extension",
    "sniff_csv",
    "parquet_metadata",
    "parquet_schema",
    "parquet_file_metadata",
    "iceberg_scan",
    "delta_scan",
    "read_xlsx",
    "sqlite_scan",
    "postgres_scan",
    "mysql_scan",
    "query",
    "query_table",
    "http_get",
    "which_secret",
    "pragma_version",
    "checkpoint",
    "force_checkpoint",
    "export_database",
}


def _function_name(node: exp.Func) -> str:
    if isinstance(node, exp.Anonymous):
        return str(node.this).lower()
    return (node.sql_name() or type(node).__name__).lower()


def guard(sql: str, allowed_schemas: tuple[str, ...] = ("marts",), dialect: str = "duckdb") -> exp.Query:
    """Return the parsed query if it is allowed, else raise QueryRefused with the reason."""
    try:
        statements = [s for s in sqlglot.parse(sql, read=dialect) if s is not None]
    except ParseError as err:
        raise QueryRefused(f"query does not parse: {str(err).splitlines()[0]}") from err
    if len(statements) != 1:
        raise QueryRefused(f"exactly one statement is allowed, got {len(statements)}")
    tree = statements[0]
    if not isinstance(tree, exp.Query):
        raise QueryRefused(f"only SELECT queries are allowed, got {tree.key.upper()}")
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    for node in tree.walk():
        if isinstance(node, _FORBIDDEN_NODES):
            raise QueryRefused(f"{node.key.upper()} is not allowed in a read-only query")
        if isinstance(node, exp.Func):
            name = _function_name(node)
            if name in _FORBIDDEN_FUNCTIONS or name.startswith(("read_", "duckdb_", "pragma_")):
                raise QueryRefused(f"function {name}() is not allowed")
        if isinstance(node, exp.Table):
            if not isinstance(node.this, exp.Identifier):
                raise QueryRefused(f"table expression {node.sql(dialect=dialect)!r} is not allowed")
            schema = node.db.lower()
            name = node.name.lower()
            if not schema and name in ctes:
                continue
            if node.catalog or schema not in allowed_schemas:
                raise QueryRefused(
                    f"table {node.sql(dialect=dialect)!r} is outside the allowed schemas "
                    f"({', '.join(allowed_schemas)}); name marts tables as marts.<table>"
                )
    return tree
