import contextlib
import hashlib
import hmac
import io
import json
import os
import secrets
import warnings
from pathlib import Path

import pytest

warnings.filterwarnings("ignore", category=DeprecationWarning, module="sqlglotrs")

# One random pseudonymisation key for the session (never a key written in the code): every
# load of personal columns needs one. Tests of a missing key remove it with monkeypatch.
TEST_PSEUDONYM_KEY = os.environ.setdefault("CIVIC_PSEUDONYM_KEY", secrets.token_hex(32))

# Tables are as wide as $COLUMNS (orchestration/cli/display.py); the tests read them at
# one width whatever runs them (a narrow terminal, a pipe, a runner that sets COLUMNS).
os.environ["COLUMNS"] = "120"


def expected_pseudonym(domain: str, value: str, key_hex: str = TEST_PSEUDONYM_KEY, version: int = 1) -> str:
    """The pseudonym of `value`, recomputed here from RFC 5869 and RFC 2104 (not with the
    code under test): HKDF-SHA256 of the master key for the domain, then HMAC-SHA256."""
    salt, info = b"civic-lakehouse pseudonymisation v1", f"domain:{domain}:v{version}".encode()
    prk = hmac.new(salt, bytes.fromhex(key_hex), hashlib.sha256).digest()
    domain_key = hmac.new(prk, info + b"\x01", hashlib.sha256).digest()  # one 32-byte block
    return f"p{version}:" + hmac.new(domain_key, value.encode(), hashlib.sha256).hexdigest()


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
LAKE_VARS = (
    "CIVIC_CATALOG_URI",
    "CIVIC_WAREHOUSE",
    "CIVIC_LANDING",
    "CIVIC_DUCKDB",
    "DAGSTER_HOME",
    "CIVIC_PLAN_SCENARIOS",
    "CIVIC_FEEDS",
    "CIVIC_SOURCES",
)


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


# --- real published files ---------------------------------------------------------------

# shared/ sits beside the repository (../shared/realdata from its root)
REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"


@pytest.fixture
def lake(civic_home):
    """(settings, catalog) of a fresh lake under `civic_home`."""
    from lake.catalog import open_catalog
    from lake.settings import load_settings

    settings = load_settings()
    return settings, open_catalog(settings)


def source_rows(catalog, table: str, source: str) -> list[dict]:
    """The rows one feed wrote to a raw table (the `_source` filter is pushed down)."""
    from pyiceberg.expressions import EqualTo

    return catalog.load_table(table).scan(row_filter=EqualTo("_source", source)).to_arrow().to_pylist()


def quarantined_rows(catalog, source: str) -> list[dict]:
    """The quarantined rows of one feed (none when nothing was ever quarantined)."""
    from pyiceberg.expressions import EqualTo

    if not catalog.table_exists("quarantine.rejected_rows"):
        return []
    table = catalog.load_table("quarantine.rejected_rows")
    return table.scan(row_filter=EqualTo("source", source)).to_arrow().to_pylist()


def assert_balanced(records) -> None:
    """Loads happened, and each accounts for every row it received."""
    assert records
    for rec in records:
        assert rec.received == rec.loaded + rec.quarantined
