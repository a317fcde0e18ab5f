import contextlib
import io
import json
import os
import warnings
from pathlib import Path

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


DEMO_SIZE = 0.3
LAKE_VARS = ("CIVIC_CATALOG_URI", "CIVIC_WAREHOUSE", "CIVIC_LANDING", "CIVIC_DUCKDB", "DAGSTER_HOME",
             "CIVIC_PLAN_SCENARIOS", "CIVIC_SOURCES")


def use_home(mp: pytest.MonkeyPatch, home: Path) -> None:
    """Point every lake setting at `home` (and nothing else from the environment)."""
    mp.setenv("CIVIC_HOME", str(home))
    mp.setenv("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    for var in LAKE_VARS:
        mp.delenv(var, raising=False)


@pytest.fixture(scope="session")
def demo_build(tmp_path_factory):
    """One `civic demo --size 0.3` (five fiscal years) for the whole session: the end-to-end
    modules read it instead of building their own. Returns (home, truths, printed output).

    Modules that change it run last among its users (test_marts_end_to_end's final test
    adds a ledger line to FY2025 and refreshes that year)."""
    from orchestration.cli import main

    home = tmp_path_factory.mktemp("demo") / "civic"
    with pytest.MonkeyPatch.context() as mp:
        use_home(mp, home)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            assert main(["demo", "--size", str(DEMO_SIZE)]) == 0, out.getvalue()[-3000:]
    truths = json.loads((home / "landing" / "demo_truths.json").read_text())
    return home, truths, out.getvalue()
