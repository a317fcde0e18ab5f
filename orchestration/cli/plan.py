"""`civic plan`: next fiscal year's budget plan, scenario against baseline, per service and
in total, read from marts.budget_plan and marts.budget_plan_totals (built by dbt from
plans/scenarios.yml); `civic plan --check` validates that file (lake.plan_scenarios).
After the plan it prints the errors of the last one (marts.plan_vs_actual and
marts.plan_vs_actual_totals for the newest plan's base year) when that year had a plan.

The plan is read through the same guarded read-only query path as `civic query`
(lake.marts_query.run_query): the CLI never writes and never needs dbt. Every figure,
the totals included, is computed in the marts; this module only rounds and lays them out.
"""

from __future__ import annotations

import textwrap
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from lake.marts_query import run_query
from lake.plan_scenarios import ScenarioError, read_scenarios, scenarios_file
from orchestration.cli.display import render, terminal_width

PLAN_SQL = """
select *
from marts.budget_plan
where plan_year = (select max(plan_year) from marts.budget_plan)
order by scenario_order, scenario, service_id
"""

TOTALS_SQL = """
select *
from marts.budget_plan_totals
where plan_year = (select max(plan_year) from marts.budget_plan_totals)
order by scenario_order, scenario
"""


# The errors of the last plan: marts.plan_vs_actual (and its totals) for the year before
# the newest plan year, i.e. the adopted plan for the newest plan's base year.
ERRORS_SQL = """
select *
from marts.plan_vs_actual
where fiscal_year = (select max(plan_year) from marts.budget_plan) - 1
order by service_id
"""

ERROR_TOTALS_SQL = """
select *
from marts.plan_vs_actual_totals
where fiscal_year = (select max(plan_year) from marts.budget_plan) - 1
"""


class PlanUnavailable(RuntimeError):
    """There is no budget plan to show (no marts database, or no plan built yet)."""


def _read_mart(duckdb_path: Path, sql: str, mart: str) -> list[dict]:
    try:
        result = run_query(duckdb_path, sql)
    except FileNotFoundError as err:
        raise PlanUnavailable(str(err)) from err
    except Exception as err:  # duckdb.CatalogException when the mart was never built
        if mart in str(err):
            raise PlanUnavailable(
                f"no marts.{mart} in {duckdb_path}: run `civic refresh` (or `dbt build`) first"
            ) from err
        raise
    rows = result.records()
    if not rows:
        why = _why_no_plan(duckdb_path) if mart.startswith("budget_plan") else None
        raise PlanUnavailable(why or f"marts.{mart} in {duckdb_path} is empty: run `civic refresh` first")
    return rows


def _years(years: list[int]) -> str:
    return ", ".join(f"FY{y}" for y in years) or "none"


def _why_no_plan(duckdb_path: Path) -> str | None:
    """Why a refreshed lake has no plan: no fiscal year holds both volumes and costs (the
    plan's base year needs both; marts/budget_plan.sql)."""
    sql = (
        "select fiscal_year, coalesce(sum(transactions), 0) > 0, coalesce(sum(cost), 0) > 0 "
        "from marts.service_channel_kpis where channel = 'all' group by 1 order by 1"
    )
    try:
        years = run_query(duckdb_path, sql).rows
    except Exception:  # noqa: BLE001 - no such mart either: the generic message
        return None
    if not years or any(volumes and costs for _, volumes, costs in years):
        return None
    volumes = [y for y, v, _ in years if v]
    costs = [y for y, _, c in years if c]
    return (
        "no budget plan: no fiscal year holds both transactions and delivery costs "
        f"(transactions in {_years(volumes)}; costs in {_years(costs)}), so the plan has no base year; "
        "load the delivery costs of a year with volumes, or name a base_fiscal_year in plans/scenarios.yml"
    )


def read_plan(duckdb_path: Path) -> list[dict]:
    """Rows of the newest plan year in marts.budget_plan, as dicts."""
    return _read_mart(duckdb_path, PLAN_SQL, "budget_plan")


def read_plan_totals(duckdb_path: Path) -> dict[str, dict]:
    """The newest plan year's rows of marts.budget_plan_totals, by scenario."""
    return {r["scenario"]: r for r in _read_mart(duckdb_path, TOTALS_SQL, "budget_plan_totals")}


def read_last_plan_errors(duckdb_path: Path) -> tuple[list[dict], dict | None]:
    """The errors of the last plan: marts.plan_vs_actual rows of the year before the newest
    plan year, and that year's marts.plan_vs_actual_totals row. ([], None) when the year
    had no plan (history loaded in one refresh) or the lake predates those marts."""
    try:
        rows = run_query(duckdb_path, ERRORS_SQL).records()
        totals = run_query(duckdb_path, ERROR_TOTALS_SQL).records() if rows else []
    except Exception as err:  # noqa: BLE001 - a lake built before plan_vs_actual existed
        if "plan_vs_actual" in str(err):
            return [], None
        raise
    return rows, (totals[0] if totals else None)


@dataclass(frozen=True)
class Plan:
    """The newest plan year: its rows per service and its totals per scenario, and the
    errors of the last plan (plan_vs_actual rows and their totals; empty when none)."""

    rows: list[dict]
    totals: dict[str, dict]
    errors: list[dict] = field(default_factory=list)
    error_totals: dict | None = None


def read_full_plan(duckdb_path: Path) -> Plan:
    rows, totals = read_plan(duckdb_path), read_plan_totals(duckdb_path)  # PlanUnavailable first
    return Plan(rows, totals, *read_last_plan_errors(duckdb_path))


def _money(value) -> float | None:
    return None if value is None else round(float(value), 2) + 0.0  # + 0.0: no "-0"


def _pct(value) -> float | None:
    return None if value is None else round(float(value) * 100, 1) + 0.0


# What each column of `civic plan`'s tables is (the full definitions: budget_plan.yml)
LEGEND = {
    "volume": "forecast transactions",
    "online_%": "digital take-up (the base year's beside a scenario's)",
    "plan_%": "digital take-up the scenario plans, %",
    "online": "cost of the online channel",
    "phone": "cost of the phone channel",
    "in_person": "cost in person (with the cost of reaching a wait target)",
    "other": "cost of mobile, other and unpriced channels",
    "total": "total cost",
    "per_txn": "total cost per forecast transaction",
    "baseline": "total cost of the baseline scenario",
    "scenario": "total cost of this scenario",
    "savings": "baseline - scenario (positive: the scenario costs less)",
    "savings_%": "savings as % of the baseline",
    "wait_cost": "cost of reaching the wait target",
    "note": "why the plan differs from what the scenario asks",
    "planned": "forecast transactions of the plan",
    "actual": "transactions the year had",
    "vol_err": "actual - planned transactions",
    "vol_err_%": "volume error as % of planned",
    "actual_%": "digital take-up the year had, %",
    "mix_pts": "actual - planned digital take-up, percentage points",
    "plan_cost": "total cost the plan forecast",
    "actual_cost": "delivery cost the year had",
    "cost_err": "actual - planned cost",
    "cost_err_%": "cost error as % of planned",
}
COUNTS = {"volume", "online_%", "plan_%", "savings_%", "planned", "actual", "vol_err", "vol_err_%", "actual_%"}
COUNTS |= {"mix_pts", "cost_err_%"}


def _table(cols: list[str], out: list[tuple], currency: str | None, *, zero_is_empty: bool = True) -> str:
    """A plan table without its all-empty columns (all zero too, unless an error of 0 is
    news: `zero_is_empty`), with its money in `currency` and a legend of the columns it shows."""

    def shown(v) -> bool:
        return bool(v) if zero_is_empty else v not in (None, "")

    keep = [i for i, c in enumerate(cols) if c in ("service_id", "service_name") or any(shown(r[i]) for r in out)]
    cols, out = [cols[i] for i in keep], [tuple(r[i] for i in keep) for r in out]
    money = {c for c in cols if c in LEGEND and c not in COUNTS and c != "note"}
    legend = "; ".join(f"{c}: {LEGEND[c]}" for c in cols if c in LEGEND)
    amounts = f"amounts in {currency}" if currency else "amounts in the ledger's currency"
    note = textwrap.fill(f"({amounts}; {legend})", width=min(terminal_width(), 120))
    return f"{render(cols, out, money=money, count=False)}\n{note}"


def _baseline_table(rows: list[dict], total: dict, currency: str | None = None) -> str:
    cols = [
        "service_id",
        "service_name",
        "volume",
        "online_%",
        "online",
        "phone",
        "in_person",
        "other",
        "total",
        "per_txn",
    ]
    out = []
    for r in [*rows, {**total, "service_id": "TOTAL", "service_name": ""}]:
        out.append(
            (
                r["service_id"],
                r["service_name"],
                round(float(r["forecast_volume"] or 0)),
                _pct(r["plan_digital_take_up"]),
                _money(r["cost_online"]),
                _money(r["cost_phone"]),
                _money(r["cost_in_person"]),
                _money(r["cost_other_channels"]),
                _money(r["total_cost"]),
                _money(r["cost_per_transaction"]),
            )
        )
    return _table(cols, out, currency)


def _scenario_table(rows: list[dict], total: dict, currency: str | None = None) -> str:
    """A scenario beside the baseline, per service (their names are in the baseline's
    table; every column of the mart: --format csv|json|xlsx)."""
    cols = [
        "service_id",
        "online_%",
        "plan_%",
        "baseline",
        "scenario",
        "savings",
        "savings_%",
        "per_txn",
        "wait_cost",
        "note",
    ]
    out = []
    total = {
        **total,
        "service_id": "TOTAL",
        "scenario_note": None,
    }
    for r in [*rows, total]:
        pct = r["savings_vs_baseline_pct"]
        out.append(
            (
                r["service_id"],
                _pct(r["base_digital_take_up"]),
                _pct(r["plan_digital_take_up"]),
                _money(r["baseline_total_cost"] or 0),
                _money(r["total_cost"]),
                _money(r["savings_vs_baseline"]),
                None if pct is None else round(float(pct), 1),
                _money(r["cost_per_transaction"]),
                _money(r["wait_target_cost"]),
                r["scenario_note"] or "",
            )
        )
    return _table(cols, out, currency)


def _signed(value, decimals: int = 1) -> float | None:
    return None if value is None else round(float(value), decimals) + 0.0


def _error_table(errors: list[dict], total: dict | None, currency: str | None = None) -> str:
    cols = [
        "service_id",
        "planned",
        "actual",
        "vol_err",
        "vol_err_%",
        "plan_%",
        "actual_%",
        "mix_pts",
        "plan_cost",
        "actual_cost",
        "cost_err",
        "cost_err_%",
    ]
    out = []
    for r in [*errors, *([{**total, "service_id": "TOTAL"}] if total else [])]:
        out.append(
            (
                r["service_id"],
                None if r["planned_volume"] is None else round(float(r["planned_volume"])),
                r["actual_volume"],
                None if r["volume_error"] is None else round(float(r["volume_error"])),
                _signed(r["volume_error_pct"]),
                _pct(r["planned_digital_take_up"]),
                _pct(r["actual_digital_take_up"]),
                _signed(r["channel_mix_error_points"]),
                _money(r["planned_cost"]),
                _money(r["actual_cost"]),
                _money(r["cost_error"]),
                _signed(r["cost_error_pct"]),
            )
        )
    return _table(cols, out, currency, zero_is_empty=False)


def render_plan_errors(errors: list[dict], total: dict | None, currency: str | None = None) -> str:
    """The errors of the last plan as text: a heading naming the year, its adopted scenario
    and base year, a table per service with a TOTAL row (marts.plan_vs_actual_totals).
    Empty when there are none."""
    if not errors:
        return ""
    first = errors[0]
    heading = (
        f"Errors of the FY{first['fiscal_year']} plan (scenario {first['scenario']}, based on "
        f"FY{first['plan_base_fiscal_year']}) against FY{first['fiscal_year']}'s actuals "
        "(marts.plan_vs_actual)"
    )
    return f"{heading}\n{_error_table(errors, total, currency)}"


def render_plan(
    rows: list[dict], scenarios: list[str] | None = None, *, totals: dict[str, dict], currency: str | None = None
) -> str:
    """The plan as text: for each scenario (all when `scenarios` is None, in file order) a
    per-service table against the baseline with a TOTAL row (`totals`: the
    budget_plan_totals rows by scenario), then the totals per scenario."""
    by_scenario: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_scenario[r["scenario"]].append(r)
    available = list(by_scenario)
    if scenarios:
        unknown = [s for s in scenarios if s not in by_scenario]
        if unknown:
            raise ValueError(
                f"unknown scenario(s) {', '.join(unknown)}; the plan has: {', '.join(available)} "
                "(scenarios are declared in plans/scenarios.yml)"
            )
        wanted = list(dict.fromkeys(scenarios))
    else:
        wanted = available
    first = rows[0]
    lines = [
        f"FY{first['plan_year']} budget plan (based on FY{first['base_fiscal_year']}; marts.budget_plan; "
        f"plans/scenarios.yml version {first['scenarios_version']}, sha256 {first['scenarios_sha256']})",
    ]
    for name in wanted:
        part = by_scenario[name]
        description = part[0]["scenario_description"] or ""
        lines.append("")
        if part[0]["is_baseline"]:
            lines.append(f"Scenario {name}: {description}".rstrip(": "))
            lines.append(_baseline_table(part, totals[name], currency))
        else:
            lines.append(f"Scenario {name} against baseline: {description}".rstrip(": "))
            lines.append(_scenario_table(part, totals[name], currency))
    table = [
        (
            name,
            _money(totals[name]["total_cost"]),
            _money(totals[name]["savings_vs_baseline"]),
            _money(totals[name]["baseline_total_cost"]),
        )
        for name in wanted
    ]
    if len(wanted) > 1 or not by_scenario[wanted[0]][0]["is_baseline"]:
        lines.append("")
        lines.append(f"FY{first['plan_year']} totals")
        money = {"total_cost", "savings_vs_baseline", "baseline_cost"}
        lines.append(
            render(
                ["scenario", "total_cost", "savings_vs_baseline", "baseline_cost"],
                table,
                money=money,
                currency=currency,
            )
        )
    return "\n".join(lines)


def check_scenarios(path: Path | None = None) -> tuple[bool, str]:
    """`civic plan --check`: (True, "ok: N scenarios in PATH") or (False, the one-line error)."""
    path = scenarios_file() if path is None else Path(path)
    try:
        rows = read_scenarios(path)
    except ScenarioError as err:
        problem = " ".join(str(err).split()).removeprefix("scenarios file: ")
        return False, f"{path}: {problem}"
    return True, f"ok: {len(rows)} scenarios in {path}"


def plan_command(duckdb_path, scenarios: list[str] | None) -> str:
    """What `civic plan [--scenario NAME ...]` prints. Raises PlanUnavailable when there is
    no plan yet and ValueError for a scenario the plan does not have."""
    plan = read_full_plan(Path(duckdb_path))
    currency = plan_currency(Path(duckdb_path), plan.rows[0]["base_fiscal_year"])
    text = render_plan(plan.rows, scenarios, totals=plan.totals, currency=currency)
    errors = render_plan_errors(plan.errors, plan.error_totals, currency)
    return f"{text}\n\n{errors}" if errors else text


def plan_currency(duckdb_path: Path, base_year: int) -> str | None:
    """The currency of the base year's ledger (marts.funds_by_phase), which the plan's
    amounts are in; None when the ledger does not say."""
    sql = f"select distinct currency from marts.funds_by_phase where fiscal_year = {int(base_year)} order by 1"
    try:
        found = [r[0] for r in run_query(duckdb_path, sql).rows if r[0]]
    except Exception:  # noqa: BLE001 - a lake without that mart: the plan is shown without
        return None
    return "/".join(found) or None
