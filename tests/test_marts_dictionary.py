"""The data dictionary of the marts (lake/marts_dictionary.py) and `civic dictionary`."""

import csv
import io
import json
from pathlib import Path

import pytest
import yaml

from lake.marts_dictionary import (
    ColumnDoc,
    ManifestError,
    MartDoc,
    dictionary_markdown,
    dictionary_rows,
    read_marts_dictionary,
)

MARTS_DIR = Path(__file__).resolve().parents[1] / "dbt_project" / "models" / "marts"


def _model(name, folder, description, columns):
    return {
        "resource_type": "model",
        "name": name,
        "alias": name,
        "original_file_path": f"models/{folder}/{name}.sql",
        "description": description,
        "columns": columns,
    }


def _test(name, kind, model, column=None, kwargs=None):
    return {
        "resource_type": "test",
        "name": name,
        "test_metadata": {"name": kind, "kwargs": kwargs or {}} if kind else None,
        "column_name": column,
        "attached_node": f"model.p.{model}" if model else None,
        "depends_on": {"nodes": [f"model.p.{model}"] if model else []},
    }


@pytest.fixture
def manifest(tmp_path):
    """A small manifest: two marts (one without a grain test), a staging model, and tests
    of every kind (column, generated and named model tests, a singular test)."""
    nodes = {
        "model.p.zeta": _model(
            "zeta",
            "marts",
            "Zeta mart.\nFolded over lines.\n",
            {
                "fiscal_year": {
                    "name": "fiscal_year",
                    "data_type": "integer",
                    "description": "Year.",
                    "constraints": [{"type": "not_null"}],
                },
                "status": {"name": "status", "data_type": "varchar", "description": "met | missed", "constraints": []},
                "undocumented": {"name": "undocumented", "data_type": None, "description": ""},
            },
        ),
        "model.p.alpha": _model(
            "alpha", "marts", "Alpha.", {"id": {"name": "id", "data_type": "varchar", "description": "Id."}}
        ),
        "model.p.stg_thing": _model("stg_thing", "staging", "Staging.", {}),
        "test.p.accepted_values_zeta_status__met__missed": _test(
            "accepted_values_zeta_status__met__missed", "accepted_values", "zeta", column="status"
        ),
        "test.p.not_null_zeta_status": _test("not_null_zeta_status", "not_null", "zeta", column="status"),
        "test.p.unique_combination_of_columns_zeta_fiscal_year__status": _test(
            "unique_combination_of_columns_zeta_fiscal_year__status",
            "unique_combination_of_columns",
            "zeta",
            kwargs={"combination_of_columns": ["fiscal_year", "status"]},
        ),
        "test.p.zeta_status_is_sane": _test("zeta_status_is_sane", "expression_is_true", "zeta"),
        "test.p.not_null_stg_thing_id": _test("not_null_stg_thing_id", "not_null", "stg_thing", column="id"),
        "test.p.assert_zeta_adds_up": {
            "resource_type": "test",
            "name": "assert_zeta_adds_up",
            "test_metadata": None,
            "column_name": None,
            "attached_node": None,
            "depends_on": {"nodes": ["model.p.zeta", "model.p.stg_thing"]},
        },
    }
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps({"metadata": {}, "nodes": nodes}))
    return path


def test_reads_every_mart_sorted_with_grain_tests_and_columns(manifest):
    alpha, zeta = read_marts_dictionary(manifest)
    assert alpha == MartDoc("alpha", "Alpha.", "", (ColumnDoc("id", "varchar", "Id.", ()),), ())
    assert zeta.name == "zeta"
    assert zeta.description == "Zeta mart. Folded over lines."
    assert zeta.grain == "fiscal_year x status"
    # a generated test name is shown as its kind, a named one by its name, singular tests too
    assert set(zeta.tests) == {"unique_combination_of_columns", "zeta_status_is_sane", "assert_zeta_adds_up"}
    assert [c.name for c in zeta.columns] == ["fiscal_year", "status", "undocumented"]
    fiscal_year, status, undocumented = zeta.columns
    assert fiscal_year.tests == ("not_null",)  # the contract's constraint
    assert set(status.tests) == {"accepted_values", "not_null"}
    assert undocumented == ColumnDoc("undocumented", "", "", ())


def test_a_missing_or_broken_manifest_is_one_clear_error(tmp_path):
    with pytest.raises(ManifestError, match="dbt parse"):
        read_marts_dictionary(tmp_path / "nope.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ManifestError, match="not JSON"):
        read_marts_dictionary(tmp_path / "bad.json")
    (tmp_path / "other.json").write_text("[1, 2]")
    with pytest.raises(ManifestError, match="not a dbt manifest"):
        read_marts_dictionary(tmp_path / "other.json")


def test_markdown_and_rows(manifest):
    marts = read_marts_dictionary(manifest)
    md = dictionary_markdown(marts)
    assert "## marts.zeta" in md and "Grain: fiscal_year x status." in md
    assert "| status | varchar | met \\| missed |" in md  # a pipe in a description stays in its cell
    rows = dictionary_rows(marts)
    assert [(r["mart"], r["column"]) for r in rows] == [
        ("marts.alpha", "id"),
        ("marts.zeta", "fiscal_year"),
        ("marts.zeta", "status"),
        ("marts.zeta", "undocumented"),
    ]


@pytest.fixture(scope="module")
def real_manifest():
    from orchestration.defs.dbt.project import ensure_manifest

    return ensure_manifest()


def _yml_models():
    """The marts as their .yml files declare them, read here with yaml (not through dbt)."""
    models = {}
    for path in sorted(MARTS_DIR.glob("*.yml")):
        for model in yaml.safe_load(path.read_text()).get("models", []):
            models[model["name"]] = model
    return models


def test_the_real_marts_match_their_yml_files(real_manifest):
    declared = _yml_models()
    marts = read_marts_dictionary(real_manifest)
    assert [m.name for m in marts] == sorted(declared)
    for mart in marts:
        model = declared[mart.name]
        assert mart.description == " ".join(model["description"].split())
        assert [c.name for c in mart.columns] == [c["name"] for c in model["columns"]]
        for doc, col in zip(mart.columns, model["columns"], strict=True):
            assert doc.data_type == col["data_type"] and doc.description == " ".join(col["description"].split())
            declared_tests = [next(iter(t)) if isinstance(t, dict) else t for t in col.get("data_tests", [])]
            assert set(declared_tests) <= set(doc.tests)
        grain = [t for t in model.get("data_tests", []) if isinstance(t, dict) and "unique_combination_of_columns" in t]
        if grain:
            columns = grain[0]["unique_combination_of_columns"]["arguments"]["combination_of_columns"]
            assert mart.grain == " x ".join(columns)
    scorecard = next(m for m in marts if m.name == "scorecard")
    assert scorecard.grain == "fiscal_year x service_id x measure"


def test_civic_dictionary_prints_every_format(real_manifest, capsys):
    from orchestration.cli.main import main

    declared = _yml_models()
    assert main(["dictionary", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert {r["mart"] for r in rows} == {f"marts.{name}" for name in declared}
    assert len(rows) == sum(len(m["columns"]) for m in declared.values())
    assert main(["dictionary", "--format", "json"]) == 0
    marts = json.loads(capsys.readouterr().out)
    assert [m["name"] for m in marts] == sorted(declared)
    assert all({"name", "data_type", "description", "tests"} <= set(c) for m in marts for c in m["columns"])
    assert main(["dictionary"]) == 0
    assert "## marts.scorecard" in capsys.readouterr().out
