"""The budget plan's pure parts: the scenarios file (validated in Python by
lake.plan_scenarios before dbt runs, landed as reference.plan_scenarios), where it is
found, `civic plan --check`, and the rendering of `civic plan`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lake import plan_scenarios
from orchestration.cli.plan import Plan, check_scenarios, render_plan, render_plan_errors
from orchestration.cli.plan_export import plan_csv, plan_json, plan_workbook
from orchestration.cli.summary import planted_shift_savings

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def scenarios_model():
    """The validator (formerly the dbt Python model int_plan_scenarios)."""
    return plan_scenarios


def test_the_shipped_scenarios_file_declares_baseline_online_and_wait_scenarios(scenarios_model):
    rows = scenarios_model.parse_scenarios((REPO / "plans" / "scenarios.yml").read_text())
    by_name = {r["scenario"]: r for r in rows}
    assert list(by_name) == ["baseline", "online_plus_10", "online_plus_25", "wait_target"]
    assert by_name["baseline"]["is_baseline"] and by_name["baseline"]["online_shift_points"] == 0
    assert by_name["online_plus_10"]["online_shift_points"] == 10
    assert by_name["online_plus_25"]["online_shift_points"] == 25
    assert by_name["wait_target"]["wait_target_is_standard"] is True
    assert all(r["volume_growth_pct"] == 0 and r["service_ids"] is None for r in rows)
    assert {r["scenarios_version"] for r in rows} == {"2026.2"}
    assert len({r["scenarios_sha256"] for r in rows}) == 1
    assert [r["scenario_order"] for r in rows] == [1, 2, 3, 4]
    assert set(rows[0]) == {name for name, _ in scenarios_model.COLUMNS}


def test_a_new_scenario_is_just_an_entry_in_the_file(scenarios_model):
    text = """
version: 7
volume_growth_pct: 2.5
scenarios:
  - name: baseline
  - name: permits_digital_first
    description: Permits reach 80 % digital take-up, with 5 % more volume.
    digital_take_up_goal: 0.8
    volume_growth_pct: 5
    services: [SVC-007, SVC-008]
  - name: wait_12
    wait_target: 12
"""
    rows = {r["scenario"]: r for r in scenarios_model.parse_scenarios(text)}
    assert rows["baseline"]["volume_growth_pct"] == 2.5  # the file's default
    permits = rows["permits_digital_first"]
    assert permits["digital_take_up_goal"] == 0.8 and permits["volume_growth_pct"] == 5
    assert permits["service_ids"] == "SVC-007;SVC-008" and permits["scenarios_version"] == "7"
    assert rows["wait_12"]["wait_target_minutes"] == 12 and rows["wait_12"]["wait_target_is_standard"] is False


def test_the_budget_office_may_name_the_plans_base_year(scenarios_model):
    named = scenarios_model.parse_scenarios("version: 1\nbase_fiscal_year: 2024\nscenarios:\n  - name: baseline\n")
    assert [r["base_fiscal_year"] for r in named] == [2024]
    unnamed = scenarios_model.parse_scenarios("version: 1\nscenarios:\n  - name: baseline\n  - name: x\n")
    assert [r["base_fiscal_year"] for r in unnamed] == [None, None]  # the newest year with volumes and costs
    assert scenarios_model.scenarios_arrow(named).schema.field("base_fiscal_year").type == "int32"


def test_the_budget_office_declares_the_adopted_scenario(scenarios_model):
    """`adopted`: one name for every plan year, or plan years with a default; absent: baseline."""
    head = "version: 1\nscenarios:\n  - name: baseline\n  - name: online\n    online_shift_points: 10\n"

    def adopted(text):
        return {r["scenario"]: (r["is_adopted_by_default"], r["adopted_plan_years"]) for r in text}

    assert adopted(scenarios_model.parse_scenarios(head)) == {"baseline": (True, None), "online": (False, None)}
    by_name = scenarios_model.parse_scenarios(head + "adopted: online\n")
    assert adopted(by_name) == {"baseline": (False, None), "online": (True, None)}
    by_year = scenarios_model.parse_scenarios(head + "adopted: {2026: online, 2025: online, default: baseline}\n")
    assert adopted(by_year) == {"baseline": (True, None), "online": (False, "2025;2026")}
    shipped = scenarios_model.read_scenarios(REPO / "plans" / "scenarios.yml")
    assert [r["scenario"] for r in shipped if r["is_adopted_by_default"]] == ["baseline"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "version: 1\nscenarios:\n  - name: online_plus_5\n    online_shift_points: 5\n",
            "named `baseline` is required",
        ),
        ("scenarios:\n  - name: baseline\n", "`version` is required"),
        ("version: 1\nscenarios:\n  - name: baseline\n  - name: baseline\n", "duplicate name"),
        ("version: 1\nscenarios:\n  - name: baseline\n  - name: x\n    online_shift: 5\n", "unknown key"),
        (
            "version: 1\nscenarios:\n  - name: baseline\n  - name: x\n    online_shift_points: 120\n",
            "above the allowed maximum",
        ),
        (
            "version: 1\nscenarios:\n  - name: baseline\n  - name: x\n    online_shift_points: -1\n",
            "below the allowed range",
        ),
        (
            "version: 1\nscenarios:\n  - name: baseline\n  - name: x\n    online_shift_points: ten\n",
            "expected a number",
        ),
        (
            "version: 1\nscenarios:\n  - name: baseline\n  - name: x\n    online_shift_points: 5\n    digital_take_up_goal: 0.9\n",
            "not both",
        ),
        ("version: 1\nscenarios:\n  - name: baseline\n  - name: x\n    wait_target: soon\n", "wait_target"),
        (
            "version: 1\nscenarios:\n  - name: baseline\n  - name: x\n    volume_growth_pct: -100\n",
            "below the allowed range",
        ),
        (
            "version: 1\nscenarios:\n  - name: baseline\n  - name: x\n    services: []\n",
            "non-empty list of service ids",
        ),
        ("version: 1\nscenarios:\n  - name: baseline\n    online_shift_points: 10\n", "the baseline changes nothing"),
        ("version: 1\nscenarios:\n  - name: Online Plus\n", "lower_snake_case"),
        ("version: 1\nscenarios: []\n", "non-empty list"),
        ("version: 1\nscenario:\n  - name: baseline\n", "unknown top-level key"),
        ("version: 1\nscenarios: [\n", "not valid YAML"),
        (
            "version: 1\nbase_fiscal_year: last\nscenarios:\n  - name: baseline\n",
            "base_fiscal_year: expected a fiscal year",
        ),
        ("version: 1\nbase_fiscal_year: 2024.5\nscenarios:\n  - name: baseline\n", "base_fiscal_year"),
        ("version: 1\nbase_fiscal_year: 24\nscenarios:\n  - name: baseline\n", "base_fiscal_year"),
        ("version: 1\nadopted: nope\nscenarios:\n  - name: baseline\n", "adopted: 'nope' is not a scenario"),
        ("version: 1\nadopted: {1800: baseline}\nscenarios:\n  - name: baseline\n", "adopted: plan year"),
        ("version: 1\nadopted: []\nscenarios:\n  - name: baseline\n", "adopted: expected a scenario name"),
    ],
)
def test_mistakes_in_the_scenarios_file_fail_with_a_clear_message(scenarios_model, text, message):
    with pytest.raises(scenarios_model.ScenarioError, match=message):
        scenarios_model.parse_scenarios(text)


def test_the_scenarios_file_is_the_env_var_or_the_repository_default(scenarios_model, tmp_path, monkeypatch):
    # resolved once, never searched for upwards from the working directory
    assert scenarios_model.scenarios_file({}) == REPO / "plans" / "scenarios.yml"
    target = tmp_path / "scenarios.yml"
    target.write_text("version: 1\nscenarios:\n  - name: baseline\n")
    assert scenarios_model.scenarios_file({"CIVIC_PLAN_SCENARIOS": str(target)}) == target
    monkeypatch.chdir(tmp_path)
    assert scenarios_model.scenarios_file({"CIVIC_PLAN_SCENARIOS": "scenarios.yml"}) == target
    with pytest.raises(scenarios_model.ScenarioError, match="not found"):
        scenarios_model.read_scenarios(tmp_path / "missing.yml")


def test_plan_check_says_ok_or_the_one_line_error(tmp_path):
    ok, message = check_scenarios(REPO / "plans" / "scenarios.yml")
    assert ok and message.startswith("ok: 4 scenarios")
    bad = tmp_path / "scenarios.yml"
    bad.write_text("version: 1\nscenarios:\n  - name: baseline\n  - name: x\n    online_shift: 5\n")
    ok, message = check_scenarios(bad)
    assert not ok and "unknown key" in message and "\n" not in message
    assert message.startswith(f"{bad}: ")
    ok, message = check_scenarios(tmp_path / "missing.yml")
    assert not ok and "not found" in message
    empty = tmp_path / "empty.yml"
    empty.write_text("")
    ok, message = check_scenarios(empty)
    assert (ok, message) == (False, f"{empty}: expected a mapping with `version` and `scenarios`")


def test_scenarios_land_as_one_whole_reference_table(tmp_path):
    from pyiceberg.catalog.sql import SqlCatalog

    catalog = SqlCatalog("t", uri=f"sqlite:///{tmp_path}/c.db", warehouse=f"file://{tmp_path}/wh")
    rows = plan_scenarios.read_scenarios(REPO / "plans" / "scenarios.yml")
    plan_scenarios.land_plan_scenarios(catalog, rows)
    plan_scenarios.land_plan_scenarios(catalog, rows[:2], {"civic.run-id": "r2"})
    landed = catalog.load_table("reference.plan_scenarios").scan().to_arrow()
    assert landed.column_names == [name for name, _ in plan_scenarios.COLUMNS]
    assert landed["scenario"].to_pylist() == ["baseline", "online_plus_10"]


def _row(scenario, sid, total, baseline, order, **extra):
    row = {
        "plan_year": 2026,
        "base_fiscal_year": 2025,
        "scenario": scenario,
        "scenario_order": order,
        "service_id": sid,
        "service_name": f"Service {sid}",
        "scenario_description": f"{scenario} text",
        "scenarios_version": "v1",
        "scenarios_sha256": "abc",
        "is_baseline": scenario == "baseline",
        "base_volume": 100,
        "forecast_volume": 100.0,
        "base_digital_take_up": 0.5,
        "plan_digital_take_up": 0.5,
        "cost_online": 0.0,
        "cost_mobile": 0.0,
        "cost_phone": 0.0,
        "cost_in_person": total,
        "cost_other": 0.0,
        "unpriced_cost": 0.0,
        "total_cost": total,
        "baseline_total_cost": baseline,
        "savings_vs_baseline": baseline - total,
        "cost_per_transaction": total / 100,
        "target_cost_per_transaction": None,
        "wait_target_cost": None,
        "scenario_note": None,
        "cost_other_channels": 0.0,
        "savings_vs_baseline_pct": 100 * (baseline - total) / baseline,
    }
    row.update(extra)
    return row


def _total(scenario, total, baseline, order, take_up):
    """A marts.budget_plan_totals row (the sums are dbt's: unit test budget_plan_totals_sum_weight_and_divide)."""
    return {
        "plan_year": 2026,
        "base_fiscal_year": 2025,
        "scenario": scenario,
        "scenario_order": order,
        "is_baseline": scenario == "baseline",
        "base_volume": 200.0,
        "forecast_volume": 200.0,
        "base_digital_take_up": 0.5,
        "plan_digital_take_up": take_up,
        "cost_online": 0.0,
        "cost_mobile": 0.0,
        "cost_phone": 0.0,
        "cost_in_person": total,
        "cost_other": 0.0,
        "unpriced_cost": 0.0,
        "cost_other_channels": 0.0,
        "total_cost": total,
        "cost_per_transaction": total / 200,
        "baseline_total_cost": baseline,
        "savings_vs_baseline": baseline - total,
        "savings_vs_baseline_pct": 100 * (baseline - total) / baseline,
        "wait_target_cost": None,
    }


PLAN = [
    _row("baseline", "S1", 1000.0, 1000.0, 1),
    _row("baseline", "S2", 500.0, 500.0, 1),
    _row("online_plus_25", "S1", 700.0, 1000.0, 2, plan_digital_take_up=0.75),
    _row("online_plus_25", "S2", 500.0, 500.0, 2, scenario_note="no online transactions"),
]
TOTALS = {
    "baseline": _total("baseline", 1500.0, 1500.0, 1, 0.5),
    "online_plus_25": _total("online_plus_25", 1200.0, 1500.0, 2, 0.625),
}


def test_render_plan_shows_each_scenario_against_baseline_with_totals():
    text = render_plan(PLAN, ["online_plus_25"], totals=TOTALS)
    assert text.splitlines()[0].startswith("FY2026 budget plan (based on FY2025")
    assert "Scenario online_plus_25 against baseline: online_plus_25 text" in text
    total_line = next(line for line in text.splitlines() if line.startswith("TOTAL"))
    assert "1,500.00" in total_line and "1,200.00" in total_line and "300.00" in total_line
    assert "no online transactions" in text
    everything = render_plan(PLAN, None, totals=TOTALS)
    assert everything.index("Scenario baseline") < everything.index("Scenario online_plus_25")
    totals = everything[everything.index("FY2026 totals") :]
    assert "baseline" in totals and "online_plus_25" in totals


def test_render_plan_refuses_an_unknown_scenario():
    with pytest.raises(ValueError, match="unknown scenario.*plans/scenarios.yml"):
        render_plan(PLAN, ["wait_target"], totals=TOTALS)


def _error(sid, planned, actual, planned_cost, actual_cost, planned_up=0.5, actual_up=0.25):
    """A marts.plan_vs_actual row (its formulas: unit test plan_vs_actual_adopted_scenario_and_errors)."""
    return {
        "fiscal_year": 2025,
        "service_id": sid,
        "service_name": f"{sid} name",
        "scenario": "online_plus_10",
        "plan_base_fiscal_year": 2024,
        "scenarios_version": "1",
        "planned_volume": float(planned),
        "actual_volume": actual,
        "volume_error": actual - planned,
        "volume_error_pct": 100 * (actual - planned) / planned,
        "planned_digital_take_up": planned_up,
        "actual_digital_take_up": actual_up,
        "channel_mix_error_points": 100 * (actual_up - planned_up),
        "planned_cost": planned_cost,
        "actual_cost": actual_cost,
        "cost_error": actual_cost - planned_cost,
        "cost_error_pct": 100 * (actual_cost - planned_cost) / planned_cost,
    }


ERRORS = [_error("S1", 100, 128, 1000.0, 1100.0), _error("S2", 300, 300, 500.0, 550.0, 0.25, 0.25)]
ERROR_TOTALS = {  # a marts.plan_vs_actual_totals row (unit test plan_vs_actual_totals_sum_and_weight)
    **{k: v for k, v in ERRORS[0].items() if k not in ("service_id", "service_name", "scenarios_version")},
    "services": 2,
    "services_with_actuals": 2,
    "planned_volume": 400.0,
    "actual_volume": 428,
    "volume_error": 28.0,
    "volume_error_pct": 7.0,
    "planned_cost": 1500.0,
    "actual_cost": 1650.0,
    "cost_error": 150.0,
    "cost_error_pct": 10.0,
}


def test_the_errors_of_the_last_plan_are_a_table_per_service_with_a_total():
    text = render_plan_errors(ERRORS, ERROR_TOTALS, "EUR")
    lines = text.splitlines()
    assert lines[0] == (
        "Errors of the FY2025 plan (scenario online_plus_10, based on FY2024) against FY2025's actuals "
        "(marts.plan_vs_actual)"
    )
    s1 = next(line for line in lines if line.lstrip("│ ").startswith("S1"))
    assert "128" in s1 and "28.0" in s1 and "-25.0" in s1 and "1,100.00" in s1 and "100.00" in s1
    total = next(line for line in lines if line.lstrip("│ ").startswith("TOTAL"))
    assert "428" in total and "7.0" in total and "1,650.00" in total and "150.00" in total
    # S2's volume error is 0: an error of 0 is shown, not dropped as an empty column
    s2 = next(line for line in lines if line.lstrip("│ ").startswith("S2"))
    assert "vol_err" in text and " 0 " in s2
    assert "amounts in EUR" in text
    assert render_plan_errors([], None) == ""


def test_the_exports_carry_the_errors_of_the_last_plan():
    plan = Plan(PLAN, TOTALS, ERRORS, ERROR_TOTALS)
    first, second = plan_csv(plan, ["online_plus_25"]), plan_csv(plan, ["online_plus_25"], errors=True)
    assert len(first.splitlines()) == 3  # header and the scenario's two services: one table a file
    header, *errors = second.splitlines()
    assert header.split(",")[:2] == ["fiscal_year", "service_id"]
    assert [e.split(",")[1] for e in errors] == ["S1", "S2", "TOTAL"]
    doc = json.loads(plan_json(plan, ["baseline"]))
    assert [r["service_id"] for r in doc["last_plan_errors"]["rows"]] == ["S1", "S2"]
    assert doc["last_plan_errors"]["totals"]["cost_error"] == 150.0
    assert json.loads(plan_json(Plan(PLAN, TOTALS)))["last_plan_errors"] is None
    assert plan_csv(Plan(PLAN, TOTALS), errors=True) == ""


def test_the_workbook_has_a_sheet_of_the_last_plans_errors(tmp_path):
    import openpyxl

    sheets = plan_workbook(Plan(PLAN, TOTALS, ERRORS, ERROR_TOTALS), tmp_path / "plan.xlsx")
    assert sheets[-1] == "errors FY2025"
    ws = openpyxl.load_workbook(tmp_path / "plan.xlsx")["errors FY2025"]
    values = list(ws.values)
    assert values[0][:2] == ("fiscal_year", "service_id")
    assert [r[1] for r in values[1:]] == ["S1", "S2", "TOTAL"]
    assert values[-1][list(values[0]).index("cost_error")] == 150.0
    assert "errors FY2025" not in plan_workbook(Plan(PLAN, TOTALS), tmp_path / "none.xlsx")


def test_planted_shift_savings_caps_at_the_non_digital_share():
    measures = {
        # non-digital CPT (300 + 900) / 40 = 30, online CPT 5: 0.25 x 100 x 25 = 625
        "A": {
            "transactions": {"online": 60, "phone": 20, "in_person": 20, "all": 100},
            "cost": {"online": 300.0, "phone": 300.0, "in_person": 900.0},
        },
        # 10 % non-digital only: capped at 0.10 x 100 x (20 - 2) = 180
        "B": {
            "transactions": {"online": 90, "phone": 10, "in_person": 0, "all": 100},
            "cost": {"online": 180.0, "phone": 200.0, "in_person": 0.0},
        },
        # no online channel: nothing to move
        "C": {
            "transactions": {"phone": 50, "in_person": 50, "all": 100},
            "cost": {"phone": 500.0, "in_person": 2000.0},
        },
    }
    assert planted_shift_savings(measures, 25) == pytest.approx(625 + 180)


def test_a_broken_scenarios_file_refuses_the_refresh_and_fails_the_check(tmp_path, monkeypatch, capsys):
    import importlib

    main = importlib.import_module("orchestration.cli.main")  # the module (orchestration.cli.main is also the function)
    bad = tmp_path / "scenarios.yml"
    bad.write_text("version: 1\nscenarios:\n  - name: online_plus_5\n    online_shift_points: 5\n")
    monkeypatch.setenv("CIVIC_HOME", str(tmp_path / "civic"))
    monkeypatch.setenv("CIVIC_PLAN_SCENARIOS", str(bad))
    assert main._refresh([2024]) is False  # refused before any run starts
    assert f"civic refresh: {bad}: a scenario named `baseline` is required" in capsys.readouterr().err
    parser = main.build_parser()
    assert main.cmd_plan(parser.parse_args(["plan", "--check"])) == 2
    assert capsys.readouterr().err.startswith(f"civic plan: {bad}: a scenario named `baseline` is required")
    monkeypatch.delenv("CIVIC_PLAN_SCENARIOS")
    assert main.cmd_plan(parser.parse_args(["plan", "--check"])) == 0
    assert capsys.readouterr().out.startswith("ok: 4 scenarios in ")


def test_a_lake_without_a_year_of_volumes_and_costs_says_why_there_is_no_plan(tmp_path, capsys, monkeypatch):
    """Real data can hold volumes in one year and costs in none (programme spending is not
    a delivery cost): `civic plan` says so instead of "run civic refresh"."""
    import duckdb

    from orchestration.cli import main

    home = tmp_path / "civic"
    home.mkdir()
    with duckdb.connect(str(home / "lakehouse.duckdb")) as con:
        con.execute("create schema marts")
        con.execute(
            "create table marts.budget_plan (plan_year integer, scenario_order integer, scenario varchar, service_id varchar)"
        )
        con.execute(
            "create table marts.service_channel_kpis as select * from (values "
            "(2012, 'all', 56, null), (2024, 'all', 900, null), (2025, 'all', null, 0.0)) "
            "as t(fiscal_year, channel, transactions, cost)"
        )
    monkeypatch.setenv("CIVIC_HOME", str(home))
    monkeypatch.delenv("CIVIC_DUCKDB", raising=False)
    assert main(["plan"]) == 1
    err = capsys.readouterr().err
    assert err == (
        "civic plan: no budget plan: no fiscal year holds both transactions and delivery costs "
        "(transactions in FY2012, FY2024; costs in none), so the plan has no base year; load the delivery "
        "costs of a year with volumes, or name a base_fiscal_year in plans/scenarios.yml\n"
    )
