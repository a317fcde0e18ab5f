"""Which upstream columns each output column of a model's SQL derives from (sqlglot).

The lineage follows the SELECT expressions through CTEs, subqueries and unions down to
physical tables; columns read only in WHERE, JOIN or GROUP BY are not lineage. A column
whose trail ends where sqlglot cannot see (an unknown table, an unexpanded `*`, a table
function) is unresolved: reported as such, never guessed. A column computed from literals
alone (or `count(*)`) derives from no column.

Parsing and qualifying a mart costs tens of milliseconds and a refresh repeats the same
SQL, so the result is kept on disk per model, keyed by a hash of its SQL and its parents'
columns (`cached_lineage`).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.lineage import Node, lineage

Relation = tuple[str, str]  # (schema, table)
UpstreamColumn = tuple[str, str, str]  # (schema, table, column)


@dataclass
class ColumnLineage:
    deps: dict[str, list[UpstreamColumn]] = field(default_factory=dict)  # resolved columns only
    unresolved: list[str] = field(default_factory=list)


def column_lineage(sql: str, schemas: Mapping[Relation, Mapping[str, str]], dialect: str = "duckdb") -> ColumnLineage:
    """Output column -> the (schema, table, column) it derives from, over the tables of
    `schemas` ((schema, table) -> {column: type}). Catalog names in the SQL are ignored:
    the relations of one DuckDB file are named by schema and table."""
    mapping: dict[str, dict[str, dict[str, str]]] = {}
    for (schema, table), columns in schemas.items():
        mapping.setdefault(schema, {})[table] = dict(columns)
    try:
        tree = sqlglot.parse_one(sql, dialect=dialect)
        for relation in tree.find_all(exp.Table):
            relation.set("catalog", None)
        nodes = lineage(None, tree, mapping, dialect=dialect, copy=False, trim_selects=False)
    except (SqlglotError, ValueError):  # SQL sqlglot cannot parse or follow: nothing resolved
        return ColumnLineage()
    result = ColumnLineage()
    for name, node in nodes.items():
        found = _sources(node, schemas)
        if found is None:
            result.unresolved.append(name)
        else:
            result.deps[name] = sorted(found)
    return result


def _sources(node: Node, schemas: Mapping[Relation, Mapping[str, str]]) -> set[UpstreamColumn] | None:
    """The physical columns at the end of the node's trail, None if any end is unknown."""
    found: set[UpstreamColumn] = set()
    for n in node.walk():
        if n.downstream:
            continue
        if n.name.rsplit(".", 1)[-1] == "*" or isinstance(n.expression, exp.Placeholder):
            return None  # an unexpanded star, or a column of no known source
        if isinstance(n.expression, exp.Table):
            upstream = (n.expression.db, n.expression.name, n.name.rsplit(".", 1)[-1])
            if upstream[2] not in schemas.get(upstream[:2], {}):
                return None  # a table or column the schemas do not hold
            found.add(upstream)
        # else a projection without columns (a literal, count(*)): it adds none
    return found


def _key(sql: str, parents: Mapping[Relation, Mapping[str, str]]) -> str:
    """Hash of the SQL and its parents' columns. Lists of integer literals (the build's
    fiscal years, `fiscal_year in (2024, 2025)`) are blanked first: they cannot change
    which column derives from which, and a refresh of other years should not recompute."""
    text = re.sub(r"\(\s*\d+(?:\s*,\s*\d+)*\s*\)", "(?)", sql)
    shape = sorted((f"{s}.{t}", sorted(c.items())) for (s, t), c in parents.items())
    return hashlib.sha256(json.dumps([text, shape]).encode()).hexdigest()


def cached_lineage(
    cache_dir: Path, model: str, sql: str, parents: Mapping[Relation, Mapping[str, str]]
) -> tuple[ColumnLineage, bool]:
    """`column_lineage` of a model, read from `cache_dir/<model>.json` when its key
    matches; (lineage, whether it came from the cache). One file per model, overwritten."""
    key = _key(sql, parents)
    path = cache_dir / f"{model}.json"
    try:
        cached = json.loads(path.read_text())
        if cached["key"] == key:
            deps = {c: [(s, t, col) for s, t, col in d] for c, d in cached["deps"].items()}
            return ColumnLineage(deps=deps, unresolved=list(cached["unresolved"])), True
    except (OSError, ValueError, KeyError, TypeError):
        pass  # no cache yet, or one this code cannot read: compute it again
    result = column_lineage(sql, parents)
    cache_dir.mkdir(parents=True, exist_ok=True)
    scratch = path.with_suffix(f".{os.getpid()}.tmp")
    scratch.write_text(json.dumps({"key": key, "deps": result.deps, "unresolved": result.unresolved}))
    os.replace(scratch, path)
    return result, False
