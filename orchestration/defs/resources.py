"""The Dagster resources: the lakehouse settings (values from the environment) and dbt."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Mapping, Sequence
from functools import cached_property
from pathlib import Path
from unittest import mock

import dagster as dg
from dagster_dbt import DbtCliInvocation, DbtCliResource
from dagster_dbt.compat import DBT_PYTHON_VERSION
from packaging import version
from pyiceberg.catalog import Catalog

from lake.catalog import open_catalog
from lake.settings import Settings, load_settings


class LakehouseResource(dg.ConfigurableResource):
    """Where the lake lives. Empty fields fall back to CIVIC_* environment variables.

    Tests relocate a lake with `LakehouseResource(civic_home=str(path))`; the code location
    uses `from_env()`, whose fields are `dg.EnvVar`s (shown as such in the UI).
    """

    civic_home: str = ""

    @classmethod
    def from_env(cls) -> LakehouseResource:
        return cls(civic_home=dg.EnvVar("CIVIC_HOME")) if "CIVIC_HOME" in os.environ else cls()

    def settings(self) -> Settings:
        env = dict(os.environ)
        if self.civic_home:
            env["CIVIC_HOME"] = self.civic_home
        return load_settings(env)

    def catalog(self) -> Catalog:
        return open_catalog(self.settings())


class CivicDbtCliResource(DbtCliResource):
    """dagster-dbt's dbt CLI resource without its fixed cost per run (about 8 s of a refresh).

    DbtCliResource runs `dbt --version` once per run (about 4 s: dbt asks PyPI for the
    latest release) to tell dbt Core from dbt Fusion, then builds a dbt adapter in this
    process (about 4 s: profile, project and macros) which it only uses to fetch row counts
    or column metadata. The dbt we run is the dbt-core package of this environment, so its
    version is known without a subprocess; and the marts build fetches no such metadata.
    Another executable (a dbt Fusion binary) keeps the checks of the base class.
    """

    @cached_property
    def _cli_version(self) -> version.Version:
        if DBT_PYTHON_VERSION is not None and _same_environment(self.dbt_executable):
            return DBT_PYTHON_VERSION
        return super()._cli_version

    def cli(self, args: Sequence[str], *, env: Mapping[str, str] | None = None, **kwargs) -> DbtCliInvocation:  # noqa: ANN003 - those of the base class
        """The base class's `cli`, with `env` added to the environment of the dbt process.

        dagster-dbt builds that environment from os.environ and starts dbt within `cli`, so
        `env` is set there for that call only."""
        if not env:
            return super().cli(args, **kwargs)
        with mock.patch.dict(os.environ, env):
            return super().cli(args, **kwargs)

    def _initialize_dbt_core_adapter(self, args):  # noqa: ANN001 - signature of the base class
        if _same_environment(self.dbt_executable):
            return None  # no adapter: dagster-dbt then skips row counts and column metadata
        return super()._initialize_dbt_core_adapter(args)


def _same_environment(executable: str) -> bool:
    """Whether `executable` is the dbt script of this Python environment."""
    found = shutil.which(executable)
    return found is not None and os.path.samefile(Path(found).parent, Path(sys.executable).parent)
