"""The data dictionary of the marts, read from dbt's manifest.

The marts are the public interface, and their documentation lives in the dbt `.yml` files
beside them; the manifest (`dbt parse`) is where dbt has resolved those files. This module
turns it into plain records for whoever publishes the marts (the serving database's
`COMMENT ON`, `civic dictionary`, a published page). It takes the manifest's path: the
lake stage does not know where the orchestration keeps the dbt project.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MARTS_FOLDER = "models/marts/"
GRAIN_TEST = "unique_combination_of_columns"


@dataclass(frozen=True)
class ColumnDoc:
    name: str
    data_type: str
    description: str
    tests: tuple[str, ...]  # data tests on this column (e.g. "not_null", "accepted_values")


@dataclass(frozen=True)
class MartDoc:
    name: str  # e.g. "scorecard" (schema marts)
    description: str
    grain: str  # the columns of its unique-combination test, e.g. "fiscal_year x service_id x measure", or ""
    columns: tuple[ColumnDoc, ...]
    tests: tuple[str, ...]  # model-level data test names


class ManifestError(ValueError):
    """The manifest cannot be read (missing, not JSON, not a dbt manifest)."""


def read_marts_dictionary(manifest_path: Path) -> list[MartDoc]:
    """Every model in dbt_project/models/marts/, sorted by name."""
    manifest = _load(Path(manifest_path))
    nodes: dict[str, dict[str, Any]] = manifest["nodes"]
    marts = {
        uid: node
        for uid, node in nodes.items()
        if node.get("resource_type") == "model" and node.get("original_file_path", "").startswith(MARTS_FOLDER)
    }
    column_tests: dict[tuple[str, str], list[str]] = {}
    model_tests: dict[str, list[str]] = {}
    grains: dict[str, str] = {}
    for node in nodes.values():
        if node.get("resource_type") != "test":
            continue
        for uid in _tested_models(node, marts):
            column = node.get("column_name")
            if column:
                column_tests.setdefault((uid, column), []).append(kind_of_test(node))
                continue
            model_tests.setdefault(uid, []).append(name_of_model_test(node, marts[uid]["name"]))
            metadata = node.get("test_metadata") or {}
            if metadata.get("name") == GRAIN_TEST and uid not in grains:
                combination = (metadata.get("kwargs") or {}).get("combination_of_columns") or []
                grains[uid] = " x ".join(combination)
    docs = [_mart_doc(uid, node, column_tests, model_tests, grains) for uid, node in marts.items()]
    return sorted(docs, key=lambda d: d.name)


def kind_of_test(node: dict[str, Any]) -> str:
    """A generic test by its kind ('accepted_values'), a singular test by its name."""
    metadata = node.get("test_metadata") or {}
    return str(metadata.get("name") or node["name"])


def name_of_model_test(node: dict[str, Any], model: str) -> str:
    """A model-level test by the name its author gave it, or by its kind when dbt made up
    the name (`unique_combination_of_columns_scorecard_fiscal_year__...`)."""
    kind = kind_of_test(node)
    name = str(node["name"])
    generated = name.startswith(f"{kind}_{model}_") or name == f"{kind}_{model}"
    return kind if generated else name


def _tested_models(node: dict[str, Any], marts: dict[str, Any]) -> list[str]:
    attached = node.get("attached_node")
    if attached:
        return [attached] if attached in marts else []
    # a singular test (tests/*.sql) names the marts it reads only through depends_on
    return [uid for uid in (node.get("depends_on") or {}).get("nodes", []) if uid in marts]


def _mart_doc(
    uid: str,
    node: dict[str, Any],
    column_tests: dict[tuple[str, str], list[str]],
    model_tests: dict[str, list[str]],
    grains: dict[str, str],
) -> MartDoc:
    columns = []
    for name, col in (node.get("columns") or {}).items():
        tests = list(column_tests.get((uid, name), []))
        # an enforced contract's not_null constraint is checked on every build, like a test
        tests += [c["type"] for c in col.get("constraints") or [] if c.get("type") == "not_null"]
        columns.append(
            ColumnDoc(
                name=name,
                data_type=str(col.get("data_type") or ""),
                description=_text(col.get("description")),
                tests=tuple(dict.fromkeys(tests)),
            )
        )
    return MartDoc(
        name=str(node.get("alias") or node["name"]),
        description=_text(node.get("description")),
        grain=grains.get(uid, ""),
        columns=tuple(columns),
        tests=tuple(dict.fromkeys(model_tests.get(uid, []))),
    )


def _text(value: object) -> str:
    """One paragraph: YAML's folded blocks leave line breaks and a trailing newline."""
    return " ".join(str(value or "").split())


def _load(path: Path) -> dict[str, Any]:
    try:
        manifest = json.loads(path.read_text())
    except FileNotFoundError:
        raise ManifestError(f"no dbt manifest at {path}: run `dbt parse` in dbt_project") from None
    except json.JSONDecodeError as err:
        raise ManifestError(f"{path} is not JSON ({err.msg}): run `dbt parse` again") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("nodes"), dict):
        raise ManifestError(f"{path} is not a dbt manifest (no nodes)")
    return manifest


def dictionary_rows(marts: list[MartDoc]) -> list[dict[str, str]]:
    """One row per mart column, for CSV and JSON: what a spreadsheet of the marts holds."""
    return [
        {
            "mart": f"marts.{m.name}",
            "grain": m.grain,
            "column": c.name,
            "data_type": c.data_type,
            "description": c.description,
            "tests": ", ".join(c.tests),
        }
        for m in marts
        for c in m.columns
    ]


def dictionary_markdown(marts: list[MartDoc]) -> str:
    """The dictionary as Markdown: a section per mart, a table of its columns."""
    out: list[str] = ["# The marts", ""]
    for m in marts:
        out += [f"## marts.{m.name}", "", m.description, ""]
        if m.grain:
            out += [f"Grain: {m.grain}.", ""]
        if m.tests:
            out += [f"Tests: {', '.join(m.tests)}.", ""]
        out += ["| column | type | description | tests |", "|---|---|---|---|"]
        for c in m.columns:
            out.append(f"| {c.name} | {c.data_type} | {_cell(c.description)} | {', '.join(c.tests)} |")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")
