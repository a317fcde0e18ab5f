"""The process environment every civic command sets up, without importing Dagster.

Kept apart from resources.py (which defines a Dagster resource) so that light commands
such as `civic query` start without loading Dagster or pyiceberg.
"""

from __future__ import annotations

import os

from lake.settings import load_settings


def export_settings_env() -> None:
    """Pin CIVIC_HOME as an absolute path for child processes: dbt runs in its project
    directory, where a relative `.civic` would mean somewhere else. (The dbt profile
    derives the DuckDB path from CIVIC_HOME unless CIVIC_DUCKDB is set.)"""
    os.environ["CIVIC_HOME"] = str(load_settings().home)
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
