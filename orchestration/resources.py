"""The lakehouse settings as a Dagster resource (values from the environment)."""

from __future__ import annotations

import dagster as dg
from pyiceberg.catalog import Catalog

from lake.catalog import open_catalog
from lake.settings import Settings, load_settings


class LakehouseResource(dg.ConfigurableResource):
    """Where the lake lives. Empty fields fall back to CIVIC_* environment variables."""

    civic_home: str = ""

    def settings(self) -> Settings:
        import os

        env = dict(os.environ)
        if self.civic_home:
            env["CIVIC_HOME"] = self.civic_home
        return load_settings(env)

    def catalog(self) -> Catalog:
        return open_catalog(self.settings())


def export_settings_env() -> None:
    """Pin CIVIC_HOME as an absolute path for child processes: dbt runs in its project
    directory, where a relative `.civic` would mean somewhere else. (The dbt profile
    derives the DuckDB path from CIVIC_HOME unless CIVIC_DUCKDB is set.)"""
    import os

    os.environ["CIVIC_HOME"] = str(load_settings().home)
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
