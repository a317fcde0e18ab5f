"""The dbt resource knows this environment's dbt without `dbt --version` or an in-process adapter."""

from __future__ import annotations

from importlib.metadata import version as installed_version

from dagster_dbt.core import resource as dagster_dbt_resource

from orchestration.defs.dbt.project import DBT_EXECUTABLE, civic_dbt
from orchestration.defs.resources import CivicDbtCliResource


def test_this_environments_dbt_needs_no_subprocess(monkeypatch):
    def no_subprocess(*args, **kwargs):
        raise AssertionError(f"ran {args[0]!r}")

    monkeypatch.setattr(dagster_dbt_resource, "check_output", no_subprocess)
    dbt = CivicDbtCliResource(project_dir=civic_dbt, dbt_executable=DBT_EXECUTABLE)
    assert str(dbt._cli_version) == installed_version("dbt-core")
    assert dbt._cli_version.major < 2  # dbt Core: dagster-dbt parses its events as such
    assert dbt._initialize_dbt_core_adapter(["build"]) is None


def test_another_dbt_executable_keeps_the_version_check(tmp_path, monkeypatch):
    """A dbt elsewhere (here this environment's script reached through another folder) is
    asked for its version, as dagster-dbt does."""
    other = tmp_path / "bin" / "dbt"
    other.parent.mkdir()
    other.symlink_to(DBT_EXECUTABLE)
    asked = []
    real = dagster_dbt_resource.check_output

    def spy(args, *rest, **kwargs):
        asked.append(list(args))
        return real(args, *rest, **kwargs)

    monkeypatch.setattr(dagster_dbt_resource, "check_output", spy)
    dbt = CivicDbtCliResource(project_dir=civic_dbt, dbt_executable=str(other))
    assert str(dbt._cli_version) == installed_version("dbt-core")
    assert asked == [[str(other), "--version"]]
