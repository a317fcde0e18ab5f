"""Column schema and column lineage of the built dbt models, as Dagster metadata.

Every model gets `dagster/column_schema`: its columns with their DuckDB types (as built)
and the descriptions its .yml documents. Each mart also gets `dagster/column_lineage`:
the upstream asset columns each of its columns derives from, by sqlglot over the compiled
SQL of the build (lake/column_lineage.py, cached per mart). The same for every fiscal
year, so recorded once per asset, not per partition.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator

from lake.column_lineage import cached_lineage
from lake.model_columns import Relation

MARTS = "marts"


@dataclass
class ColumnStats:
    """What one metadata step did, for the log line (and the cost it is measured by)."""

    schemas: int = 0
    marts: int = 0
    from_cache: int = 0
    left_out: int = 0  # mart columns whose lineage sqlglot could not resolve


def relation_keys(
    manifest: Mapping[str, Any], translator: DagsterDbtTranslator
) -> dict[str, tuple[Relation, dg.AssetKey]]:
    """unique_id -> ((schema, table) in DuckDB, asset key) of every model, seed, snapshot and
    source: dbt's sources are the raw assets, as the translator keys them."""
    found: dict[str, tuple[Relation, dg.AssetKey]] = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] in ("model", "seed", "snapshot"):
            found[node["unique_id"]] = (
                (node["schema"], node.get("alias") or node["name"]),
                translator.get_asset_key(node),
            )
    for source in manifest["sources"].values():
        relation = (source["schema"], source.get("identifier") or source["name"])
        found[source["unique_id"]] = (relation, translator.get_asset_key(source))
    return found


def column_schema(node: Mapping[str, Any], columns: Mapping[str, str]) -> dg.TableSchema:
    """The built columns, in table order, described as the model's .yml describes them."""
    documented = node.get("columns", {})
    return dg.TableSchema(
        columns=[
            dg.TableColumn(name=name, type=kind, description=(documented.get(name) or {}).get("description") or None)
            for name, kind in columns.items()
        ]
    )


def model_column_metadata(
    manifest: Mapping[str, Any],
    translator: DagsterDbtTranslator,
    keys: Iterable[dg.AssetKey],
    columns: Mapping[Relation, Mapping[str, str]],
    target: Path,
) -> tuple[dict[dg.AssetKey, dict[str, Any]], ColumnStats]:
    """Asset key -> its column metadata, for the models of `keys` that were built."""
    relations = relation_keys(manifest, translator)
    by_key = {
        key: manifest["nodes"][uid]
        for uid, (_, key) in relations.items()
        if manifest["nodes"].get(uid, {}).get("resource_type") == "model"
    }
    key_of = dict(relations.values())
    stats, metadata = ColumnStats(), {}
    for key in keys:
        node = by_key.get(key)
        if node is None:
            continue
        relation = relations[node["unique_id"]][0]
        built = columns.get(relation)
        if not built:
            continue
        meta: dict[str, Any] = {"dagster/column_schema": dg.MetadataValue.table_schema(column_schema(node, built))}
        stats.schemas += 1
        if key.path[0] == MARTS:
            lineage = _lineage(node, built, relations, key_of, columns, target, stats)
            if lineage is not None:
                meta["dagster/column_lineage"] = dg.MetadataValue.column_lineage(lineage)
        metadata[key] = meta
    return metadata, stats


def _lineage(
    node: Mapping[str, Any],
    built: Mapping[str, str],
    relations: Mapping[str, tuple[Relation, dg.AssetKey]],
    key_of: Mapping[Relation, dg.AssetKey],
    columns: Mapping[Relation, Mapping[str, str]],
    target: Path,
    stats: ColumnStats,
) -> dg.TableColumnLineage | None:
    """The mart's columns -> upstream asset columns; a column with any upstream column that
    is not of a known asset is left out, with those sqlglot did not resolve."""
    compiled = target / "compiled" / node["package_name"] / node["original_file_path"]
    if not compiled.exists():
        return None
    # an incremental mart may read its own stored rows ({{ this }}): itself a parent
    parents = {
        relations[uid][0]: columns.get(relations[uid][0], {})
        for uid in [*node.get("depends_on", {}).get("nodes", []), node["unique_id"]]
        if uid in relations
    }
    found, cached = cached_lineage(target / "column_lineage", node["unique_id"], compiled.read_text(), parents)
    stats.marts += 1
    stats.from_cache += cached
    deps: dict[str, list[dg.TableColumnDep]] = {}
    for name in built:
        upstream = found.deps.get(name)
        if upstream is None or any((s, t) not in key_of for s, t, _ in upstream):
            stats.left_out += 1
            continue
        deps[name] = [dg.TableColumnDep(asset_key=key_of[s, t], column_name=c) for s, t, c in upstream]
    return dg.TableColumnLineage(deps_by_column=deps)
