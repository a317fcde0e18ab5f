"""State under CIVIC_HOME is the owner's only (issue 18 item 20): the raw personal data
in the warehouse, the catalog, the DuckDB files, the Dagster home and the keys must not
be readable by another local user around the SQL guard."""

from __future__ import annotations

import os
import stat

import duckdb
import pytest

from lake.catalog import open_catalog
from lake.settings import load_settings
from orchestration.load.flow import ingest_year
from orchestration.services.instance import prepare_dagster_home


@pytest.fixture
def open_umask():
    """Start from the common 022 (what a user's shell has), restored afterwards."""
    before = os.umask(0o022)
    yield
    os.umask(before)


def _open_to_others(root) -> list[str]:
    found = []
    for path in [root, *root.rglob("*")]:
        mode = path.lstat().st_mode
        if not stat.S_ISLNK(mode) and mode & 0o077:
            found.append(f"{path.relative_to(root)} {stat.filemode(mode)}")
    return found


def test_state_is_created_owner_only(civic_home, open_umask, monkeypatch):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    settings = load_settings()
    catalog = open_catalog(settings)
    prepare_dagster_home(settings)
    folder = civic_home / "landing" / "services" / "fy=2024"
    folder.mkdir(parents=True)
    (folder / "services.csv").write_text("service_id,name,priority_area\nS1,Permits,permits\n")
    # (the landing files are the user's own: the lake's state is what is checked)
    for path in [civic_home / "landing", *(civic_home / "landing").rglob("*")]:
        path.chmod(0o700 if path.is_dir() else 0o600)
    assert ingest_year(settings, catalog, "services", 2024).loaded == 1
    with duckdb.connect(str(settings.duckdb_path)) as con:
        con.execute("create table t as select 1 as x")
    assert (civic_home / "warehouse").is_dir() and settings.duckdb_path.exists()
    assert _open_to_others(civic_home) == []


def test_an_existing_home_open_to_others_is_closed(civic_home, open_umask):
    civic_home.mkdir(mode=0o755)
    civic_home.chmod(0o755)
    open_catalog(load_settings())
    assert stat.S_IMODE(civic_home.stat().st_mode) == 0o700
