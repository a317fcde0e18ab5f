"""`civic ingest` records its loads as materializations of the raw assets it wrote, one per
table and fiscal year with that load's own counts and its snapshot id as text."""

from __future__ import annotations

import json

import dagster as dg
import pytest

from orchestration.cli import main
from tests.conftest import REALDATA


@pytest.mark.skipif(not (REALDATA / "open311_bloomington").exists(), reason="needs shared/realdata")
def test_ingest_loads_are_asset_events(civic_home, capsys):
    assert main(["ingest", "--kind", "open311", str(REALDATA / "open311_bloomington")]) == 0
    capsys.readouterr()
    assert main(["loads", "--format", "json"]) == 0
    ledger = {(r["table_name"], r["fiscal_year"]): r for r in json.loads(capsys.readouterr().out)}
    assert ledger
    with dg.DagsterInstance.get() as instance:
        for (table, year), load in ledger.items():
            key = dg.AssetKey(table.split("."))
            events = instance.fetch_materializations(
                dg.AssetRecordsFilter(asset_key=key, asset_partitions=[str(year)]), limit=10
            ).records
            assert len(events) == 1, (table, year)
            meta = events[0].asset_materialization.metadata  # type: ignore[union-attr]
            assert meta["dagster/row_count"].value == load["loaded"]
            assert (meta["received"].value, meta["quarantined"].value) == (load["received"], load["quarantined"])
            assert meta["snapshot_id"].value == str(load["snapshot_id"] or "")
