"""The lakehouse settings as a Dagster resource (values from the environment)."""

from __future__ import annotations

import dagster as dg
from pyiceberg.catalog import Catalog

from lake.catalog import open_catalog
from lake.settings import Settings, load_settings
from orchestration.environment import export_settings_env  # noqa: F401 - its former home


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
