"""The scorecard site's pure helpers: explanations file, formatting, freshness."""

from __future__ import annotations

from datetime import datetime

import pytest

from report.build import _service_page, by_service, freshness_from_loads
from report.charts import channel_mix_spec, has_trend, plan_spec, trend_family_spec, workload_spec
from report.explanations import ExplanationsError, parse_explanations, read_explanations
from report.site import Freshness, Table, chain_head_html, column_unit, format_value, html_table, page


def test_explanations_are_keyed_by_service_measure_and_year():
    text = """
explanations:
  - {service_id: s1, measure: m, fiscal_year: 2024, explanation: "  closed counters "}
  - {service_id: s1, measure: m, fiscal_year: 2025, explanation: staff shortage}
"""
    assert parse_explanations(text) == {("s1", "m", 2024): "closed counters", ("s1", "m", 2025): "staff shortage"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("explanations: [{service_id: s1, measure: m, fiscal_year: 2024}]", "missing explanation"),
        ("explanations: [{service_id: s1, measure: m, fiscal_year: '2024', explanation: x}]", "whole year"),
        (
            "explanations: [{service_id: s, measure: m, fiscal_year: 1, explanation: x},"
            " {service_id: s, measure: m, fiscal_year: 1, explanation: y}]",
            "second explanation",
        ),
        ("explanations: {a: 1}", "list `explanations`"),
        ("explanations: [", "not valid YAML"),
    ],
)
def test_a_malformed_explanations_file_is_refused_with_the_entry(text, message):
    with pytest.raises(ExplanationsError, match=message):
        parse_explanations(text)


def test_the_shipped_explanations_file_is_valid():
    assert isinstance(read_explanations(), dict)


def test_missing_figures_are_said_in_words_and_units_spelled_out():
    assert format_value(None, "pct") == "no data"
    assert format_value(12.345, "pct") == "12.3 %"
    assert format_value(0.5, "share") == "50.0 %"
    assert format_value(1234, "transactions") == "1,234 transactions"
    assert format_value(2.5, "USD") == "2.50 USD"


def test_tables_escape_values_and_say_when_empty():
    out = html_table(Table(["a"], [{"a": "<b>"}]), "cap")
    assert "&lt;b&gt;" in out and "<caption>cap</caption>" in out
    assert "no data" in html_table(Table(["a"], []), "cap")


def test_freshness_takes_the_newest_load_per_table_and_lists_missing_measures():
    loads = [
        {"table_name": "t", "finished_at": datetime(2025, 1, 1), "loaded": 5},
        {"table_name": "t", "finished_at": datetime(2025, 3, 1), "loaded": 7},
        {"table_name": "u", "finished_at": datetime(2024, 1, 1), "loaded": 1},
    ]
    score = Table(
        ["fiscal_year", "service_id", "service_name", "measure", "actual", "status_reason"],
        [
            {
                "fiscal_year": 2025,
                "service_id": "s",
                "service_name": "S",
                "measure": "m1",
                "actual": None,
                "status_reason": "no survey this year",
            },
            {
                "fiscal_year": 2025,
                "service_id": "s",
                "service_name": "S",
                "measure": "m2",
                "actual": 3.0,
                "status_reason": None,
            },
        ],
    )
    fresh = freshness_from_loads(loads, score)
    assert fresh.last_loaded == [("t", "2025-03-01 00:00:00", 7), ("u", "2024-01-01 00:00:00", 1)]
    assert fresh.missing == [("s", "S", "m1", "no survey this year")]
    assert fresh.year == 2025


def test_a_service_page_lists_its_own_missing_measures_and_the_others_link_to_the_list():
    fresh = Freshness([], [("a", "A", "m1", "no survey"), ("b", "B", "m2", "closed")], 2025, (3, "f" * 64))
    own = page("A", "", fresh, 1, "now", service_id="a")
    assert "no survey" in own and "closed" not in own and "Measures with no data in FY2025" in own
    other = page("Home", "", fresh, 0, "now")
    assert "no survey" not in other and "2 measure(s) of 2 service(s)" in other
    assert 'href="about.html#missing"' in other
    for text in (own, other):
        assert "f" * 64 in text and "civic verify --head" in text


def test_the_chain_head_is_shown_with_how_to_verify_it_or_said_to_be_absent():
    shown = chain_head_html((12, "ab" * 32))
    assert "#12" in shown and f"civic verify --head {'ab' * 32}" in shown
    assert "no load ledger" in chain_head_html(None) and "no load ledger" in chain_head_html((0, "0" * 64))


@pytest.mark.parametrize(
    ("column", "unit"),
    [
        ("mean_wait_minutes", "minutes"),
        ("share_within_wait_standard", None),
        ("within_sla_share", "share"),
        ("satisfaction_top2_pct", "pct"),
        ("median_days_to_close", "days"),
        ("cost_per_transaction", "currency units"),
        ("digital_take_up", "share"),
        ("channel", None),
    ],
)
def test_a_columns_unit_comes_from_its_name(column, unit):
    assert column_unit(column) == unit


def test_rows_are_grouped_by_service_in_their_order():
    rows = [{"service_id": "b", "n": 1}, {"service_id": "a", "n": 2}, {"service_id": "b", "n": 3}]
    assert by_service(rows) == {"b": [rows[0], rows[2]], "a": [rows[1]]}


def test_a_trend_needs_values_in_two_fiscal_years():
    assert not has_trend([{"fiscal_year": 2024, "actual": 1.0}, {"fiscal_year": 2025, "actual": None}])
    assert has_trend([{"fiscal_year": 2024, "actual": 1.0}, {"fiscal_year": 2025, "actual": 0.0}])
    assert not has_trend([{"fiscal_year": 2024, "transactions": 5}] * 3, "transactions")


def test_every_chart_spec_is_valid_vega_lite_with_units_in_its_labels():
    """The build writes Vega-Lite dicts without Altair (for speed): Altair validates them here."""
    import altair as alt

    rows = [{"fiscal_year": y, "actual": 0.5, "target": 0.6} for y in (2024, 2025)]
    family = trend_family_spec("quality", [("digital take-up", "fraction", rows), ("mean wait", "minutes", rows)])
    alt.VConcatChart.from_dict(family)
    assert [p["encoding"]["y"]["title"] for p in family["vconcat"]] == [
        "digital take-up (fraction)",
        "mean wait (minutes)",
    ]
    assert family["vconcat"][0]["encoding"]["y"]["axis"]["format"] == "%"
    mix = channel_mix_spec([{"fiscal_year": 2025, "channel": "online", "transactions": 3}])
    alt.Chart.from_dict(mix)
    assert mix["encoding"]["x"]["title"] == "Transactions (count)"
    plan = plan_spec([{"plan_year": 2026, "scenario": "baseline", "total_cost": 10.0}])
    alt.Chart.from_dict(plan)
    assert "currency" in plan["encoding"]["x"]["title"]
    weeks = [
        {"fiscal_year": 2025, "source": "nyc311", "week_of_year": w, "requests": 10 + w, "baseline_requests": 9.5}
        | {"is_surge": w == 2}
        for w in (1, 2, 3)
    ]
    workload = workload_spec(weeks, "3-1-1 requests per week")
    alt.LayerChart.from_dict(workload)
    assert workload["layer"][0]["encoding"]["y"]["title"] == "Requests per week (count)"
    assert workload["layer"][1]["data"]["values"] == [{"week": 2, "requests": 12}]  # the surge week, marked
    assert {v["series"] for v in workload["layer"][0]["data"]["values"]} == {"requests", "earlier years' mean"}
    quiet = workload_spec([{**w, "is_surge": False} for w in weeks], "no surge")
    assert len(quiet["layer"]) == 1  # no empty layer of surge points
    with pytest.raises(Exception, match="bogus"):
        alt.Chart.from_dict({**mix, "mark": "bogus"})


def test_a_new_measure_section_is_left_out_for_a_service_without_its_rows():
    """A service page shows plan against actual (and the other measures of issue 16) only
    where the mart has rows for it, and surge weeks only for the flagged weeks."""
    row = {"service_id": "S1", "fiscal_year": 2025, "scenario": "baseline", "planned_cost": 10.0, "actual_cost": 12.0}
    weeks = [{"service_id": "S1", "fiscal_year": 2025, "source": "x", "week_of_year": 1, "requests": 3}]
    quiet = {"plan_vs_actual": {}, "request_workload": {"S1": [{**weeks[0], "is_surge": False}]}}
    body = _service_page("S1", [], quiet, {})
    assert "Plan against actual" not in body and "surge weeks" not in body
    assert "3-1-1 weekly workload" in body  # the weekly chart of the year's workload
    body = _service_page(
        "S1", [], {"plan_vs_actual": {"S1": [row]}, "request_workload": {"S1": [{**weeks[0], "is_surge": True}]}}, {}
    )
    assert "Plan against actual" in body and "12.00 currency units" in body and "surge weeks" in body


def test_a_refresh_of_years_without_a_scorecard_skips_the_site(civic_home):
    """An empty lake refreshed over years without data: the site asset says there is
    nothing to publish and succeeds (the refresh does not fail on it); `civic report`
    itself still refuses."""
    import dagster as dg
    import duckdb

    from contracts.fiscal_year import FiscalCalendar, FiscalYears
    from lake.settings import load_settings
    from orchestration.defs.partitions import fiscal_year_partitions
    from orchestration.defs.report.assets import build_report_asset
    from orchestration.defs.resources import LakehouseResource
    from report.build import NoScorecard

    settings = load_settings()
    settings.duckdb_path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(settings.duckdb_path)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.scorecard (service_id varchar, measure varchar, fiscal_year integer)")
    asset = build_report_asset(
        fiscal_year_partitions(FiscalCalendar(), FiscalYears(2010, 2030)),
        [dg.AssetKey(["iceberg", "marts", "scorecard"])],
    )
    result = dg.materialize(
        [asset],
        partition_key="2030",
        resources={"lakehouse": LakehouseResource(civic_home=str(civic_home))},
        instance=dg.DagsterInstance.ephemeral(),
    )
    assert result.success
    [mat] = result.asset_materializations_for_node(asset.op.name)
    assert mat.metadata["pages"].value == 0 and mat.metadata["skipped"].value == "no scorecard rows"
    from orchestration.defs.report.assets import publish_site

    with pytest.raises(NoScorecard):
        publish_site(settings)
