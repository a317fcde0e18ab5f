"""A run over a range of fiscal years records each year's own truth: one materialization
and one check result per fiscal year, with that year's counts (partition_events.py).
Expected counts are read from the demo generator's record of the rows it wrote."""

import json

import dagster as dg

from contracts.fiscal_year import FiscalCalendar, FiscalYears
from orchestration.defs.partitions import fiscal_year_partitions
from orchestration.defs.raw.assets import build_raw_assets
from orchestration.defs.resources import LakehouseResource

YEARS = (2023, 2024)
RANGE = {"dagster/asset_partition_range_start": "2023", "dagster/asset_partition_range_end": "2024"}


def test_a_two_year_run_records_each_years_own_counts_and_checks(civic_home):
    from ingestion.demo import generate_demo

    landing = civic_home / "landing"
    generate_demo(landing, years=list(YEARS), size=0.05)
    written = json.loads((landing / "demo_truths.json").read_text())["rows_written"]
    calendar = FiscalCalendar()
    assets = [
        a
        for a in build_raw_assets(fiscal_year_partitions(calendar, FiscalYears(2010, 2030)), calendar)
        if a.key.path[-1] in ("services", "queue_events")
    ]
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize(
        assets,
        tags=RANGE,
        resources={"lakehouse": LakehouseResource(civic_home=str(civic_home))},
        instance=instance,
    )
    assert result.success
    for entity in ("services", "queue_events"):
        mats = [m for m in result.get_asset_materialization_events() if m.asset_key.path == ["raw", entity]]
        by_year = {
            m.partition: {k: v.value for k, v in m.step_materialization_data.materialization.metadata.items()}
            for m in mats
        }
        assert sorted(by_year) == ["2023", "2024"], by_year.keys()
        for year in YEARS:
            planted = written[entity][str(year)]
            meta = by_year[str(year)]
            assert (meta["received"], meta["loaded"], meta["quarantined"]) == (
                planted["total"],
                planted["good"],
                planted["bad"],
            ), (entity, year)
            assert meta["dagster/row_count"] == planted["good"]
            assert list(meta["loads"]) == [str(year)]
        if entity == "queue_events":  # its years differ, so a range total on both would show
            assert by_year["2023"]["received"] != by_year["2024"]["received"]
        key = dg.AssetKey(["raw", entity])
        for check in ("row_accounting", "contract"):
            evaluations = [
                e for e in result.get_asset_check_evaluations() if e.asset_key == key and e.check_name == check
            ]
            assert sorted(e.partition for e in evaluations) == ["2023", "2024"]
            for e in evaluations:
                assert e.passed and e.blocking
                assert e.metadata["received"].value == written[entity][e.partition]["total"]
                assert e.target_materialization_data is not None
                assert e.target_materialization_data.run_id == result.run_id
