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


def test_each_mart_is_its_own_asset_with_each_years_rows_and_snapshot(civic_home):
    """Two marts built for FY2023..FY2024 (rows planted here) and one without years:
    published by one step, one asset each, each fiscal year's materialization with that
    year's rows and the snapshot of its own commit, as text, exactly as Iceberg has it."""
    import duckdb
    from pyiceberg.expressions import EqualTo

    from lake.catalog import open_catalog
    from lake.settings import load_settings
    from orchestration.defs.marts.publish import build_publish_assets

    planted = {"alpha": {2023: 3, 2024: 5}, "beta": {2023: 7, 2024: 2}}
    settings = load_settings()
    settings.duckdb_path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(settings.duckdb_path)) as con:
        con.execute("create schema marts")
        for mart, rows in planted.items():
            values = ", ".join(f"({y}, {i})" for y, n in rows.items() for i in range(n))
            con.execute(f"create table marts.{mart} as select * from (values {values}) v(fiscal_year, n)")
        con.execute("create table marts.gamma as select 1 as n union all select 2")
    calendar = FiscalCalendar()
    publish = build_publish_assets(
        [dg.AssetKey(["marts", m]) for m in (*planted, "gamma")],
        fiscal_year_partitions(calendar, FiscalYears(2010, 2030)),
        calendar,
    )
    result = dg.materialize(
        [publish],
        tags=RANGE,
        resources={"lakehouse": LakehouseResource(civic_home=str(civic_home))},
        instance=dg.DagsterInstance.ephemeral(),
    )
    assert result.success
    mats = {
        (tuple(m.asset_key.path), m.partition): {
            k: v.value for k, v in m.step_materialization_data.materialization.metadata.items()
        }
        for m in result.get_asset_materialization_events()
    }
    assert len(mats) == 3 * 2
    catalog = open_catalog(settings)
    for mart, rows in planted.items():
        table = catalog.load_table(f"marts.{mart}")
        for year, n in rows.items():
            meta = mats[("iceberg", "marts", mart), str(year)]
            assert meta["dagster/row_count"] == n
            assert isinstance(meta["snapshot_id"], str) and meta["snapshot_id"].isdigit()
            snapshot = int(meta["snapshot_id"])
            # the year's own commit: at that snapshot the year holds its rows and the later
            # year of the run is not there yet (2023 committed before 2024)
            at = table.scan(snapshot_id=snapshot, row_filter=EqualTo("fiscal_year", year)).to_arrow()
            assert at.num_rows == n
            if year == 2023:
                later = table.scan(snapshot_id=snapshot, row_filter=EqualTo("fiscal_year", 2024)).to_arrow()
                assert later.num_rows == 0
        assert (
            mats[("iceberg", "marts", mart), "2023"]["snapshot_id"]
            != mats[("iceberg", "marts", mart), "2024"]["snapshot_id"]
        )
    gamma = mats[("iceberg", "marts", "gamma"), "2024"]
    assert gamma["dagster/row_count"] == 2
    assert gamma["snapshot_id"] == str(catalog.load_table("marts.gamma").current_snapshot().snapshot_id)


def test_a_refresh_of_two_years_is_a_completed_backfill_with_each_years_truth(civic_home, capsys):
    """`civic demo --years 2023:2024`: one ranged run, recorded as a Dagster backfill that
    ends completed, whose run carries its tag; each year's raw and Iceberg-mart
    materializations carry that year's own counts (from the generator's record and from
    Iceberg), and the dbt models their row counts."""
    from dagster._core.execution.backfill import BulkActionStatus
    from pyiceberg.expressions import EqualTo

    from lake.catalog import open_catalog
    from lake.settings import load_settings
    from orchestration.cli import main

    assert main(["demo", "--years", "2023:2024", "--size", "0.05"]) == 0
    out = capsys.readouterr().out
    assert "recorded as Dagster backfill" in out, out
    written = json.loads((civic_home / "landing" / "demo_truths.json").read_text())["rows_written"]
    instance = dg.DagsterInstance.get()
    [backfill] = instance.get_backfills()
    assert backfill.backfill_id in out
    assert backfill.status == BulkActionStatus.COMPLETED_SUCCESS
    assert backfill.backfill_end_timestamp and "FY2023..FY2024" in backfill.title
    data = backfill.asset_backfill_data
    assert data.materialized_subset == data.target_subset and data.failed_and_downstream_subset.is_empty
    runs = instance.get_runs(dg.RunsFilter(tags={"dagster/backfill": backfill.backfill_id}))
    assert len(runs) == 1 and runs[0].status == dg.DagsterRunStatus.SUCCESS

    def latest(key: dg.AssetKey, partition: str) -> dict:
        [record] = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=key, asset_partitions=[partition]), limit=1
        ).records
        assert record.run_id == runs[0].run_id
        return {k: v.value for k, v in record.asset_materialization.metadata.items()}

    queue = {y: latest(dg.AssetKey(["raw", "queue_events"]), str(y)) for y in (2023, 2024)}
    for year, meta in queue.items():
        assert meta["received"] == written["queue_events"][str(year)]["total"]
        assert meta["quarantined"] == written["queue_events"][str(year)]["bad"]
    catalog = open_catalog(load_settings())
    kpis = catalog.load_table("marts.service_channel_kpis")
    for year in (2023, 2024):
        meta = latest(dg.AssetKey(["iceberg", "marts", "service_channel_kpis"]), str(year))
        in_iceberg = kpis.scan(row_filter=EqualTo("fiscal_year", year)).to_arrow().num_rows
        assert meta["dagster/row_count"] == in_iceberg > 0
        assert int(meta["snapshot_id"]) in {s.snapshot_id for s in kpis.snapshots()}
        # the dbt model carries the same year's row count (counted here from Iceberg)
        assert latest(dg.AssetKey(["marts", "service_channel_kpis"]), str(year))["dagster/row_count"] == in_iceberg
