import os
import warnings

import pytest

warnings.filterwarnings("ignore", category=DeprecationWarning, module="sqlglotrs")


@pytest.fixture
def civic_home(tmp_path, monkeypatch):
    """A fresh CIVIC_HOME for one test: nothing is shared with other tests or checkouts."""
    home = tmp_path / "civic"
    monkeypatch.setenv("CIVIC_HOME", str(home))
    for var in ("CIVIC_CATALOG_URI", "CIVIC_WAREHOUSE", "CIVIC_LANDING", "CIVIC_DUCKDB", "DAGSTER_HOME"):
        monkeypatch.delenv(var, raising=False)
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    return home
