"""The environment of the dbt subprocess, without importing Dagster.

The settings are built once in this process and passed along; they become environment
variables only at the boundary of the dbt CLI, which runs in its project directory (where
a relative `.civic` would mean somewhere else) and reads them in its profile
(dbt_project/profiles.yml) and in the raw-source plugin (lake.dbt_source).
"""

from __future__ import annotations

from lake.settings import Settings


def dbt_env(settings: Settings) -> dict[str, str]:
    """Environment variables for a dbt run against the lake of these settings."""
    return {
        "CIVIC_HOME": str(settings.home),
        "CIVIC_DUCKDB": str(settings.duckdb_path),
        "CIVIC_CATALOG_URI": settings.catalog_uri,
        "CIVIC_CATALOG_NAME": settings.catalog_name,
        "CIVIC_WAREHOUSE": settings.warehouse,
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        # dbt's log lines reach a terminal, a pipe and the Dagster UI alike: no colour codes
        "DBT_USE_COLORS": "false",
    }
