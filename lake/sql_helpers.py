"""sqlglot helpers for BI tools: a mart query rewritten for another engine's dialect."""

from __future__ import annotations

from lake.sql_guard import DIALECTS, QueryRefused, judge


def transpile_mart_query(sql: str, to: str, read: str = "duckdb") -> str:
    """`sql`, a read-only query over the marts (judged like `civic query` judges it), in
    the dialect `to`, pretty-printed. Refused (QueryRefused) like any other query."""
    if to not in DIALECTS:
        raise QueryRefused(f"unknown dialect {to!r} (one of {', '.join(DIALECTS)})")
    judged = judge(sql, read)
    return judged.tree.sql(dialect=to, pretty=True)
