import os

import dagster as dg

from lake.settings import load_settings
from orchestration.defs.dbt.project import DBT_DIR
from orchestration.defs.resources import CivicDbtCliResource, LakehouseResource
from orchestration.environment import dbt_env


def test_dbt_env_points_dbt_at_the_lake_of_the_settings(tmp_path):
    settings = load_settings({"CIVIC_HOME": str(tmp_path / "civic")})
    env = dbt_env(settings)
    assert env["CIVIC_HOME"] == str(tmp_path / "civic")
    assert env["CIVIC_DUCKDB"] == str(tmp_path / "civic" / "lakehouse.duckdb")
    assert env["CIVIC_CATALOG_URI"] == settings.catalog_uri
    assert env["CIVIC_WAREHOUSE"] == settings.warehouse
    # dbt reads them back to the same lake
    again = load_settings(env)
    assert (again.home, again.duckdb_path, again.iceberg_properties()) == (
        settings.home,
        settings.duckdb_path,
        settings.iceberg_properties(),
    )


def test_a_lakehouse_resource_relocates_the_lake(tmp_path, monkeypatch):
    monkeypatch.setenv("CIVIC_HOME", str(tmp_path / "elsewhere"))
    assert LakehouseResource(civic_home=str(tmp_path / "here")).settings().home == tmp_path / "here"
    with dg.build_resources({"lakehouse": LakehouseResource.from_env()}) as resources:
        assert resources.lakehouse.settings().home == tmp_path / "elsewhere"  # dg.EnvVar, read at run time
    monkeypatch.delenv("CIVIC_HOME")
    assert LakehouseResource.from_env().civic_home == ""


def test_the_dbt_env_is_set_for_the_dbt_call_only(monkeypatch):
    seen = {}

    def base_cli(self, args, **kwargs):
        seen["home"] = os.environ.get("CIVIC_HOME")
        return "invocation"

    monkeypatch.delenv("CIVIC_HOME", raising=False)
    monkeypatch.setattr("dagster_dbt.DbtCliResource.cli", base_cli)
    resource = CivicDbtCliResource(project_dir=os.fspath(DBT_DIR))
    assert resource.cli(["build"], env={"CIVIC_HOME": "/lake"}) == "invocation"
    assert seen["home"] == "/lake"
    assert "CIVIC_HOME" not in os.environ
