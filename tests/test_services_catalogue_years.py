"""A year without a services catalogue loads what it holds and says so, never failing the
refresh (lake/reference.py: the newest catalogue at or before the year applies)."""

import logging

import dagster as dg

from contracts.fiscal_year import FiscalCalendar, FiscalYears
from orchestration.defs.partitions import fiscal_year_partitions
from orchestration.defs.raw.assets import build_raw_assets
from orchestration.defs.resources import LakehouseResource


def _services_note(result: dg.ExecuteInProcessResult) -> dict:
    [mat] = [
        m for m in result.asset_materializations_for_node("raw__services") if m.asset_key.path == ["raw", "services"]
    ]
    return mat.metadata["services_catalogue"].value


def test_an_empty_year_with_no_catalogue_loads_nothing_and_says_so(civic_home, caplog):
    (civic_home / "landing").mkdir(parents=True)
    calendar = FiscalCalendar()
    assets = build_raw_assets(fiscal_year_partitions(calendar, FiscalYears(2010, 2030)), calendar)
    with caplog.at_level(logging.INFO, logger="civic.progress"):
        result = dg.materialize(
            assets,
            partition_key="2026",
            resources={"lakehouse": LakehouseResource(civic_home=str(civic_home))},
            instance=dg.DagsterInstance.ephemeral(),
            raise_on_error=False,
        )
    assert result.success
    note = _services_note(result)["2026"]
    assert note.startswith("no services catalogue for FY2026")
    assert any("raw.services: no services catalogue for FY2026" in r.getMessage() for r in caplog.records)
    loads = [
        m.metadata["loaded"].value
        for node in ("raw__services", "raw__queue_events")
        for m in result.asset_materializations_for_node(node)
    ]
    assert loads and set(loads) == {0}
