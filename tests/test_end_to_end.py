"""The annual refresh, end to end, through the CLI and Dagster on demo data.

The demo generator plants known truths (demo_truths.json); the marts must recover them,
every planted bad row must be quarantined under the right rule, every load must balance,
and refreshing a year again must change nothing.
"""

import json
from collections import Counter

import pytest
from conftest import use_home

from lake.catalog import open_catalog
from lake.commit import partition_filter
from lake.load_ledger import read_loads
from lake.marts_query import run_query
from lake.settings import load_settings
from orchestration.cli import main

YEARS = list(range(2021, 2026))
RULE_OF_KIND = {
    "negative_wait": "called_after_issued",
    "unknown_service": "known_service",
    "missing_id": "not_nullable",
    "duplicate_id": "unique_id",
    "outside_fiscal_year": "in_fiscal_year",
    "satisfaction_out_of_range": "in_range",
}
ID_COLUMN = {
    "queue_events": "ticket_id",
    "web_sessions": "session_id",
    "survey_responses": "response_id",
    "service_requests": "request_id",
    "ledger_entries": "entry_id",
}


@pytest.fixture(scope="module")
def refreshed(demo_build):
    home, truths, _ = demo_build
    with pytest.MonkeyPatch.context() as mp:
        use_home(mp, home)
        yield load_settings(), truths


def _mart(settings, where="true"):
    res = run_query(settings.duckdb_path, f"select * from marts.service_channel_kpis where {where} order by all")
    return res.records()


def test_planted_truths_are_recovered(refreshed):
    settings, truths = refreshed
    rows = {(r["fiscal_year"], r["service_id"], r["channel"]): r for r in _mart(settings)}
    checked = 0
    for year in YEARS:
        for sid, m in truths["measures"][str(year)].items():
            total = rows[(year, sid, "all")]
            assert total["transactions"] == m["transactions"]["all"]
            assert total["cost_per_transaction"] == pytest.approx(m["cost_per_transaction"]["all"], rel=0.01)
            assert round(total["digital_take_up"], 4) == round(m["digital_take_up"], 4)
            assert round(total["satisfaction_top2_pct"], 6) == round(m["satisfaction_top2_pct"], 6)
            assert round(total["satisfaction_score"], 6) == round(m["satisfaction_score"], 6)
            assert total["responses"] == sum(m["satisfaction_counts"].values())
            assert total["mean_wait_minutes"] == pytest.approx(m["mean_wait_minutes"], rel=0.01)
            if m["completion_rate"] is not None:
                assert total["completion_rate"] == pytest.approx(m["completion_rate"], abs=1e-9)
            for channel in ("online", "phone", "in_person"):
                if m["transactions"].get(channel, 0) == 0:
                    continue
                row = rows[(year, sid, channel)]
                assert row["transactions"] == m["transactions"][channel]
                assert row["cost_per_transaction"] == pytest.approx(m["cost_per_transaction"][channel], rel=0.01)
                checked += 1
    assert checked >= len(YEARS) * 12 * 2


def test_every_planted_bad_row_is_quarantined_under_its_rule(refreshed):
    settings, truths = refreshed
    catalog = open_catalog(settings)
    quarantine = catalog.load_table("quarantine.rejected_rows").scan().to_arrow().to_pylist()
    got = Counter((q["entity"], q["fiscal_year"], q["rule"]) for q in quarantine)
    expected = Counter()
    for bad in truths["bad_rows"]:
        expected[(bad["entity"], bad["fiscal_year"], RULE_OF_KIND[bad["kind"]])] += bad["count"]
    assert got == expected
    # the rejected rows are the planted ones, kept as delivered
    planted_ids = {(b["entity"], b["fiscal_year"], b["id"]) for b in truths["bad_rows"] if b["id"]}
    quarantined_ids = {
        (q["entity"], q["fiscal_year"], json.loads(q["row"])[ID_COLUMN[q["entity"]]]) for q in quarantine
    }
    assert planted_ids <= quarantined_ids
    assert all(q["message"] and q["load_id"] for q in quarantine)


def test_every_load_balances_and_nothing_is_lost(refreshed):
    settings, truths = refreshed
    catalog = open_catalog(settings)
    loads = read_loads(catalog).to_pylist()
    latest = {}
    for rec in sorted(loads, key=lambda r: r["finished_at"]):
        latest[(rec["table_name"], rec["fiscal_year"])] = rec
    for entity, per_year in truths["rows_written"].items():
        for year, written in per_year.items():
            rec = latest[(f"raw.{entity}", int(year))]
            assert rec["received"] == rec["loaded"] + rec["quarantined"]
            assert rec["received"] == written["total"]
            assert rec["loaded"] == written["good"]
            assert rec["quarantined"] == written["bad"]
            in_lake = sum(
                t.file.record_count
                for t in catalog.load_table(f"raw.{entity}").scan(row_filter=partition_filter(int(year))).plan_files()
            )
            assert in_lake == written["good"]


def test_marts_are_published_to_iceberg(refreshed):
    settings, _ = refreshed
    table = open_catalog(settings).load_table("marts.service_channel_kpis")
    assert table.scan().to_arrow().num_rows == len(_mart(settings))


def test_refreshing_a_year_again_changes_nothing(refreshed):
    settings, _ = refreshed
    catalog = open_catalog(settings)
    before = _mart(settings)
    raw = catalog.load_table("raw.queue_events")
    old_snapshot = raw.current_snapshot().snapshot_id
    old_rows = raw.scan(row_filter=partition_filter(2024)).to_arrow()

    assert main(["refresh", "--years", "2024"]) == 0

    assert _mart(settings) == before
    raw = catalog.load_table("raw.queue_events")
    new_rows = raw.scan(row_filter=partition_filter(2024)).to_arrow()
    assert new_rows.num_rows == old_rows.num_rows
    assert len(set(new_rows["ticket_id"].to_pylist())) == new_rows.num_rows
    assert raw.current_snapshot().snapshot_id != old_snapshot
    # the previous snapshot is still readable
    assert (
        raw.scan(row_filter=partition_filter(2024), snapshot_id=old_snapshot).to_arrow().num_rows == old_rows.num_rows
    )


@pytest.mark.parametrize(
    "sql",
    [
        "DROP TABLE marts.service_channel_kpis",
        "INSERT INTO marts.service_channel_kpis SELECT * FROM marts.service_channel_kpis",
        "COPY marts.service_channel_kpis TO '/tmp/leak.csv'",
        "SELECT 1; DROP TABLE marts.service_channel_kpis",
    ],
)
def test_civic_query_refuses_writes_with_a_clear_error(refreshed, sql, capsys):
    assert main(["query", sql]) == 2
    assert "civic query: " in capsys.readouterr().err
    settings, _ = refreshed
    assert len(_mart(settings)) > 0


def test_civic_query_and_loads_print_results(refreshed, capsys):
    assert main(["query", "select count(*) as n from marts.service_channel_kpis", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["n"] > 0
    assert main(["loads", "--table", "queue_events", "--year", "2025", "--format", "csv"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("load_id,table_name,fiscal_year,feed,received,loaded,quarantined,snapshot_id")
    assert len(out) >= 2 and out[1].split(",")[3] == "landing"  # the demo's loads come from the landing zone
