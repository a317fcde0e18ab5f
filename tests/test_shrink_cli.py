"""`civic ingest` stops, in one line, before a feed export that lost most of its rows
replaces the years it had; `--allow-shrink` lets it through (lake/shrink_guard.py)."""

from __future__ import annotations

import shutil

import pytest

from lake.catalog import open_catalog
from lake.load_ledger import read_loads
from lake.settings import load_settings
from orchestration.cli import main
from tests.conftest import REALDATA, use_home

OPG = REALDATA / "uk_opg_service_kpis"


@pytest.mark.skipif(not OPG.exists(), reason="needs shared/realdata")
def test_a_truncated_feed_export_is_refused_unless_allowed(tmp_path, monkeypatch, capsys):
    use_home(monkeypatch, tmp_path / "civic")
    monkeypatch.delenv("CIVIC_ALLOW_SHRINK", raising=False)
    feed = tmp_path / "opg"
    shutil.copytree(OPG, feed)
    assert main(["ingest", "--kind", "uk_opg", str(feed)]) == 0
    catalog = open_catalog(load_settings())
    before = read_loads(catalog, "raw.kpi_observations").num_rows
    rows_before = catalog.load_table("raw.kpi_observations").scan().to_arrow().num_rows
    for extra in sorted(feed.iterdir())[1:]:  # the export now holds one service of three
        extra.unlink()
    capsys.readouterr()
    assert main(["ingest", "--kind", "uk_opg", str(feed)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("civic ingest: raw.kpi_observations FY")
    assert "would replace the" in err[0] and "--allow-shrink" in err[0]
    catalog = open_catalog(load_settings())
    assert read_loads(catalog, "raw.kpi_observations").num_rows == before  # nothing committed
    assert catalog.load_table("raw.kpi_observations").scan().to_arrow().num_rows == rows_before
    assert main(["ingest", "--kind", "uk_opg", str(feed), "--allow-shrink"]) == 0
    catalog = open_catalog(load_settings())
    assert catalog.load_table("raw.kpi_observations").scan().to_arrow().num_rows < rows_before
