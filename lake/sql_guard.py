"""Read-only SQL for BI tools: one SELECT over the marts, nothing else (docs/querying.md).

A query is judged twice, and refused when either judge refuses:

1. sqlglot parses it (after a size and nesting check, so a 7,000-deep query cannot crash
   the parser): exactly one statement, a SELECT or PIVOT tree with no DDL/DML or settings
   anywhere in it, no schema-qualified function calls, tables only in `marts`.
2. DuckDB's own parser (`json_serialize_sql`) reads the very text that will run, so a
   difference between the two parsers cannot smuggle anything through: every function
   must be on the allowlist of lake/sql_functions.py (quoting or qualifying a name does
   not change that), functions in FROM only `range`/`generate_series`/`unnest`, and every
   table either a mart, an allowed `information_schema` view, or a CTE that is in scope
   where it is named (a CTE called `pg_settings` does not exempt the system view inside
   its own body).

The text the user wrote is what runs (so result columns keep the names DuckDB gives
them); only a query written in another dialect runs as sqlglot's DuckDB rendering.
`DESCRIBE`/`SUMMARIZE marts.x` and `SHOW TABLES` run as statements built here.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from dataclasses import dataclass

import duckdb
import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import TokenType

from lake.sql_functions import MAX_VALUE_ELEMENTS, SIZED_BY_ARGUMENTS, TABLE_FUNCTIONS, is_allowed_function

MAX_QUERY_CHARS = 100_000
MAX_NESTING = 64
DIALECTS = ("duckdb", "postgres", "tsql", "snowflake", "bigquery", "spark", "trino")
INFORMATION_SCHEMA_VIEWS = frozenset({"tables", "columns", "schemata"})
SHOW_TABLES_SQL = (
    "select table_name as name from information_schema.tables where table_schema = 'marts' order by table_name"
)


class QueryRefused(ValueError):
    """The query is not a read-only SELECT over the marts."""


@dataclass(frozen=True)
class JudgedQuery:
    """A query found safe: `sql` is the DuckDB text to run."""

    sql: str
    tree: exp.Expr


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
        "Summarize",
        "Show",
        "Cache",
        "Uncache",
        "Refresh",
        "Into",
    )
    if hasattr(exp, name)
)


def check_size(sql: str) -> None:
    """Refuse a query too long or too deeply nested before any recursive parser sees it."""
    if len(sql) > MAX_QUERY_CHARS:
        raise QueryRefused(f"query is {len(sql):,} characters long; the limit is {MAX_QUERY_CHARS:,}")
    try:
        tokens = sqlglot.Tokenizer().tokenize(sql)
    except TokenError as err:
        raise QueryRefused(f"query does not parse: {str(err).splitlines()[0]}") from None
    depth = deepest = 0
    for token in tokens:
        if token.token_type in (TokenType.L_PAREN, TokenType.L_BRACKET, TokenType.L_BRACE, TokenType.CASE):
            depth += 1
            deepest = max(deepest, depth)
        elif token.token_type in (TokenType.R_PAREN, TokenType.R_BRACKET, TokenType.R_BRACE, TokenType.END):
            depth -= 1
    if deepest > MAX_NESTING:
        raise QueryRefused(f"query nests {deepest} levels deep; the limit is {MAX_NESTING}")


def guard(sql: str, allowed_schemas: tuple[str, ...] = ("marts",), dialect: str = "duckdb") -> exp.Expr:
    """The parsed query if it is allowed, else QueryRefused with the reason."""
    return judge(sql, dialect, allowed_schemas).tree


def judge(sql: str, dialect: str = "duckdb", allowed_schemas: tuple[str, ...] = ("marts",)) -> JudgedQuery:
    """Judge `sql` (written in `dialect`) and return the DuckDB SQL to run."""
    if dialect not in DIALECTS:
        raise QueryRefused(f"unknown dialect {dialect!r} (one of {', '.join(DIALECTS)})")
    check_size(sql)
    try:
        tree = _parse_one(sql, dialect)
        discovery = _discovery(tree, allowed_schemas)
        if discovery is not None:
            return JudgedQuery(discovery, tree)
        _judge_tree(tree, allowed_schemas, dialect)
        run = sql.strip().rstrip(";").strip() if dialect == "duckdb" else tree.sql(dialect="duckdb")
        _judge_with_duckdb(run, tree, allowed_schemas)
    except RecursionError:
        raise QueryRefused(f"query is too deeply nested (limit {MAX_NESTING} levels)") from None
    return JudgedQuery(run, tree)


def _parse_one(sql: str, dialect: str) -> exp.Expr:
    logger = logging.getLogger("sqlglot")
    level = logger.level
    logger.setLevel(logging.ERROR)  # its "falling back to a Command" notice: refused below anyway
    try:
        statements = [s for s in sqlglot.parse(sql, read=dialect) if s is not None]
    except (ParseError, TokenError) as err:
        raise QueryRefused(f"query does not parse: {_readable(str(err).splitlines()[0])}") from None
    finally:
        logger.setLevel(level)
    if len(statements) != 1:
        raise QueryRefused(f"exactly one statement is allowed, got {len(statements)}")
    return statements[0]


def _readable(message: str) -> str:
    """sqlglot's parse error without the repr of its tokens."""
    message = re.sub(r"<Token token_type: TokenType\.SENTINEL,.*?>", "the end of the query", message)
    return re.sub(r"<Token token_type: TokenType\.\w+, text: (.*?), line: .*?>", r"'\1'", message)


def _discovery(tree: exp.Expr, allowed_schemas: tuple[str, ...]) -> str | None:
    """`SHOW TABLES`, `DESCRIBE marts.x`, `SUMMARIZE marts.x` as SQL built here, else None."""
    if isinstance(tree, exp.Show):
        if str(tree.this).upper() == "TABLES" and not tree.args.get("db"):
            return SHOW_TABLES_SQL
        raise QueryRefused("only SHOW TABLES is allowed (or DESCRIBE marts.<table>)")
    if isinstance(tree, (exp.Describe, exp.Summarize)):
        table = tree.this
        verb = "DESCRIBE" if isinstance(tree, exp.Describe) else "SUMMARIZE"
        if (
            not isinstance(table, exp.Table)
            or not isinstance(table.this, exp.Identifier)
            or table.catalog
            or table.db.lower() not in allowed_schemas
        ):
            raise QueryRefused(f"{verb} takes one mart: {verb} marts.<table>")
        name = table.name.replace('"', '""')
        return f'{verb} {table.db.lower()}."{name}"'
    return None


def _judge_tree(tree: exp.Expr, allowed_schemas: tuple[str, ...], dialect: str) -> None:
    if not isinstance(tree, (exp.Query, exp.Pivot)):
        what = str(tree.this).split()[0].upper() if isinstance(tree, exp.Command) and tree.this else tree.key.upper()
        raise QueryRefused(f"only SELECT queries are allowed, got {what}")
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    for node in tree.walk():
        if isinstance(node, _FORBIDDEN_NODES):
            raise QueryRefused(f"{node.key.upper()} is not allowed in a read-only query")
        if isinstance(node, exp.Dot) and isinstance(node.expression, exp.Func):
            raise QueryRefused(f"schema-qualified function {node.sql(dialect=dialect)!r} is not allowed")
        if isinstance(node, exp.Table) and isinstance(node.this, exp.Identifier):
            schema, name = node.db.lower(), node.name.lower()
            if not schema and not node.catalog and name in ctes:
                continue  # whether that CTE is in scope here is DuckDB's parse to tell
            if not node.catalog and schema == "information_schema" and name in INFORMATION_SCHEMA_VIEWS:
                continue
            if node.catalog or schema not in allowed_schemas:
                raise _outside(node.sql(dialect=dialect), allowed_schemas)


def _outside(name: str, allowed_schemas: tuple[str, ...]) -> QueryRefused:
    return QueryRefused(
        f"table {name!r} is outside the allowed schemas ({', '.join(allowed_schemas)}); "
        "name marts tables as marts.<table>"
    )


# --- the second judge: DuckDB's own parse of the text that will run ----------------------

_parser = threading.local()


def duckdb_parse(sql: str) -> dict:
    """DuckDB's parse tree of `sql` as JSON (an in-memory connection, one per thread)."""
    con = getattr(_parser, "con", None)
    if con is None:
        con = _parser.con = duckdb.connect(":memory:", config={"enable_external_access": False})
    row = con.execute("select json_serialize_sql(?)", [sql]).fetchone()
    return json.loads(row[0]) if row else {"error": True}


def _judge_with_duckdb(sql: str, tree: exp.Expr, allowed_schemas: tuple[str, ...]) -> None:
    probes = [sql]
    if tree.find(exp.Pivot) is not None:
        # DuckDB serialises no PIVOT: judge the query without its pivots, and each pivot's
        # functions and subqueries (ON, USING, IN lists) as a SELECT of their own
        probes = [q.sql(dialect="duckdb") for q in _pivot_probes(tree)]
    for probe in probes:
        parsed = duckdb_parse(probe)
        if parsed.get("error"):
            message = parsed.get("error_message", "")
            if "Only SELECT" in message:
                raise QueryRefused("only SELECT queries are allowed")
            raise QueryRefused(f"query does not parse: {_first_line(message)}")
        statements = parsed["statements"]
        if len(statements) != 1:
            raise QueryRefused(f"exactly one statement is allowed, got {len(statements)}")
        _walk(statements[0]["node"], frozenset(), allowed_schemas)


def _pivot_probes(tree: exp.Expr) -> list[exp.Expr]:
    probes: list[exp.Expr] = []
    for pivot in tree.find_all(exp.Pivot):
        parts: list[exp.Expr] = []
        for key, value in pivot.args.items():
            if key == "this":
                continue
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, exp.Expr):
                    parts += [
                        n.copy()
                        for n in item.walk()
                        if isinstance(n, (exp.Func, exp.Subquery, exp.Query))
                        and not isinstance(n.parent, (exp.Func, exp.Subquery, exp.Query))
                    ] or []
        if parts:
            probes.append(exp.select(*parts))

    def drop(node: exp.Expr):
        if isinstance(node, exp.Pivot):
            return node.this.copy() if isinstance(node.this, exp.Expr) else None
        return node

    rest = tree.copy().transform(drop)
    probes.append(rest if isinstance(rest, exp.Query) else exp.select("*").from_(rest))
    return probes


def _first_line(message: str) -> str:
    return message.strip().splitlines()[0] if message.strip() else "unknown error"


_TABLE_REFS = {"BASE_TABLE", "JOIN", "SUBQUERY", "TABLE_FUNCTION", "EXPRESSION_LIST", "EMPTY"}


def _walk(node, visible: frozenset[str], allowed_schemas: tuple[str, ...]) -> None:
    """Check every function and table of DuckDB's tree; `visible` holds the CTE names in scope."""
    if isinstance(node, list):
        for item in node:
            _walk(item, visible, allowed_schemas)
        return
    if not isinstance(node, dict):
        return
    cte_map = node.get("cte_map")
    if cte_map and cte_map.get("map"):
        inner = set(visible)
        for entry in cte_map["map"]:
            name = entry["key"].lower()
            body = entry["value"]["query"]["node"]
            if body.get("type") == "RECURSIVE_CTE_NODE" and body.get("cte_name", "").lower() == name:
                # the anchor cannot see the CTE itself; the recursive step can
                _walk(body.get("left"), frozenset(inner), allowed_schemas)
                _walk(body.get("right"), frozenset(inner | {name}), allowed_schemas)
                _walk(body.get("modifiers"), frozenset(inner | {name}), allowed_schemas)
            else:
                _walk(body, frozenset(inner), allowed_schemas)
            inner.add(name)
        visible = frozenset(inner)
        node = {k: v for k, v in node.items() if k != "cte_map"}
    if "class" not in node and "sample" in node and not str(node.get("type", "")).endswith("_NODE"):  # a table ref
        kind = node.get("type")
        if kind not in _TABLE_REFS:
            raise QueryRefused(f"{str(kind).lower().replace('_', ' ')} is not allowed in FROM")
        if kind == "BASE_TABLE":
            _check_table(node, visible, allowed_schemas)
        elif kind == "TABLE_FUNCTION":
            function = node["function"]
            name = str(function.get("function_name", "")).lower()
            if function.get("schema") or function.get("catalog") or name not in TABLE_FUNCTIONS:
                raise QueryRefused(
                    f"function {name}() is not allowed in FROM (allowed: {', '.join(sorted(TABLE_FUNCTIONS))})"
                )
            node = {k: v for k, v in node.items() if k != "function"}
            _walk(function.get("children"), visible, allowed_schemas)
    elif "function_name" in node:
        name = str(node["function_name"])
        # DuckDB itself writes some rewrites as main.f (x[1] is main.list_extract)
        if node.get("schema", "") not in ("", "main") or node.get("catalog", "") not in ("", "system"):
            raise QueryRefused(f"schema-qualified function {node.get('schema')}.{name}() is not allowed")
        if not is_allowed_function(name):
            raise QueryRefused(
                f"function {name.lower()}() is not allowed: civic query allows arithmetic, text, date, "
                "list, JSON, aggregate and window functions"
            )
        if name.lower() in SIZED_BY_ARGUMENTS:
            _check_size_arguments(name.lower(), node.get("children") or [])
    for value in node.values():
        if isinstance(value, (dict, list)):
            _walk(value, visible, allowed_schemas)


def _check_size_arguments(name: str, children: list) -> None:
    """A value-building call whose size arguments are constants within the bound."""
    sizes = children[1:] if name in ("repeat", "list_resize", "array_resize") else children
    for child in sizes:
        value = child.get("value", {}) if child.get("class") == "CONSTANT" else {}
        number = value.get("value") if not value.get("is_null", True) else None
        if name == "repeat" and child is sizes[-1] and isinstance(number, int) and abs(number) <= MAX_VALUE_ELEMENTS:
            continue
        if name != "repeat" and isinstance(number, (int, float)) and abs(number) <= MAX_VALUE_ELEMENTS:
            continue
        raise QueryRefused(
            f"{name}() as a value takes constant sizes up to {MAX_VALUE_ELEMENTS:,}; "
            "to generate more rows, use range() or generate_series() in FROM"
        )


def _check_table(ref: dict, visible: frozenset[str], allowed_schemas: tuple[str, ...]) -> None:
    schema, name, catalog = ref.get("schema_name", ""), ref.get("table_name", ""), ref.get("catalog_name", "")
    shown = ".".join(p for p in (catalog, schema, name) if p)
    if catalog:
        raise _outside(shown, allowed_schemas)
    if not schema and name.lower() in visible:
        return
    if schema.lower() == "information_schema" and name.lower() in INFORMATION_SCHEMA_VIEWS:
        return
    if schema.lower() not in allowed_schemas or not re.fullmatch(r"[^\x00-\x1f]+", name):
        raise _outside(shown, allowed_schemas)
