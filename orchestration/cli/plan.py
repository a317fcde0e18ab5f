"""`civic plan`: next fiscal year's budget plan, scenario against baseline, per service and
in total, read from marts.budget_plan (built by dbt from plans/scenarios.yml).

The plan is read through the same guarded read-only query path as `civic query`
(lake.marts_query.run_query): the CLI never writes and never needs dbt.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from lake.marts_query import run_query
from lake.plan_scenarios import ScenarioError, read_scenarios, scenarios_file
from orchestration.cli.display import render

PLAN_SQL = """
select *
from marts.budget_plan
where plan_year = (select max(plan_year) from marts.budget_plan)
order by scenario_order, scenario, service_id
"""


class PlanUnavailable(RuntimeError):
    """There is no budget plan to show (no marts database, or no plan built yet)."""


def read_plan(duckdb_path: Path) -> list[dict]:
    """Rows of the newest plan year in marts.budget_plan, as dicts."""
    try:
        result = run_query(duckdb_path, PLAN_SQL)
    except FileNotFoundError as err:
        raise PlanUnavailable(str(err)) from err
    except Exception as err:  # duckdb.CatalogException when the mart was never built
        if "budget_plan" in str(err):
            raise PlanUnavailable(
                f"no marts.budget_plan in {duckdb_path}: run `civic refresh` (or `dbt build`) first"
            ) from err
        raise
    rows = result.records()
    if not rows:
        raise PlanUnavailable(f"marts.budget_plan in {duckdb_path} is empty: run `civic refresh` first")
    return rows


def _money(value) -> float | None:
    return None if value is None else round(float(value), 2) + 0.0  # + 0.0: no "-0"


def _pct(value) -> float | None:
    return None if value is None else round(float(value) * 100, 1) + 0.0


def _sum(rows: list[dict], key: str) -> float:
    return sum(float(r[key] or 0) for r in rows)


def _baseline_table(rows: list[dict]) -> str:
    cols = ["service_id", "service_name", "forecast_volume", "digital_take_up_pct", "cost_online",
            "cost_phone", "cost_in_person", "cost_other_channels", "total_cost", "cost_per_transaction"]
    out = []
    for r in rows:
        other = (r["cost_mobile"] or 0) + (r["cost_other"] or 0) + (r["unpriced_cost"] or 0)
        out.append((r["service_id"], r["service_name"], round(float(r["forecast_volume"] or 0)),
                    _pct(r["plan_digital_take_up"]), _money(r["cost_online"]), _money(r["cost_phone"]),
                    _money(r["cost_in_person"]), _money(other), _money(r["total_cost"]),
                    _money(r["cost_per_transaction"])))
    volume = _sum(rows, "forecast_volume")
    total = _sum(rows, "total_cost")
    other = _sum(rows, "cost_mobile") + _sum(rows, "cost_other") + _sum(rows, "unpriced_cost")
    digital = sum(float(r["forecast_volume"] or 0) * float(r["plan_digital_take_up"] or 0) for r in rows)
    out.append(("TOTAL", "", round(volume), _pct(digital / volume) if volume else None,
                _money(_sum(rows, "cost_online")), _money(_sum(rows, "cost_phone")),
                _money(_sum(rows, "cost_in_person")), _money(other), _money(total),
                _money(total / volume) if volume else None))
    return render(cols, out)


def _scenario_table(rows: list[dict]) -> str:
    cols = ["service_id", "service_name", "take_up_pct", "plan_take_up_pct", "baseline_cost", "scenario_cost",
            "savings", "savings_pct", "cost_per_transaction", "target_cpt_gds", "wait_target_cost", "note"]
    out = []
    for r in rows:
        base = float(r["baseline_total_cost"] or 0)
        out.append((r["service_id"], r["service_name"], _pct(r["base_digital_take_up"]),
                    _pct(r["plan_digital_take_up"]), _money(base), _money(r["total_cost"]),
                    _money(r["savings_vs_baseline"]),
                    round(100 * float(r["savings_vs_baseline"]) / base, 1) if base else None,
                    _money(r["cost_per_transaction"]), _money(r["target_cost_per_transaction"]),
                    _money(r["wait_target_cost"]), r["scenario_note"] or ""))
    base = _sum(rows, "baseline_total_cost")
    volume = _sum(rows, "forecast_volume")
    total = _sum(rows, "total_cost")
    savings = _sum(rows, "savings_vs_baseline")
    base_digital = sum(float(r["base_volume"] or 0) * float(r["base_digital_take_up"] or 0) for r in rows)
    plan_digital = sum(float(r["forecast_volume"] or 0) * float(r["plan_digital_take_up"] or 0) for r in rows)
    base_volume = _sum(rows, "base_volume")
    wait_costs = [r["wait_target_cost"] for r in rows if r["wait_target_cost"] is not None]
    out.append(("TOTAL", "", _pct(base_digital / base_volume) if base_volume else None,
                _pct(plan_digital / volume) if volume else None, _money(base), _money(total), _money(savings),
                round(100 * savings / base, 1) if base else None, _money(total / volume) if volume else None,
                None, _money(sum(wait_costs)) if wait_costs else None, ""))
    return render(cols, out)


def render_plan(rows: list[dict], scenarios: list[str] | None = None) -> str:
    """The plan as text: for each scenario (all when `scenarios` is None, in file order) a
    per-service table against the baseline with a TOTAL row, then the totals per scenario."""
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
        f"FY{first['plan_year']} budget plan (base FY{first['base_fiscal_year']}; marts.budget_plan; "
        f"plans/scenarios.yml version {first['scenarios_version']}, sha256 {first['scenarios_sha256']})",
    ]
    for name in wanted:
        part = by_scenario[name]
        description = part[0]["scenario_description"] or ""
        lines.append("")
        if part[0]["is_baseline"]:
            lines.append(f"Scenario {name}: {description}".rstrip(": "))
            lines.append(_baseline_table(part))
        else:
            lines.append(f"Scenario {name} against baseline: {description}".rstrip(": "))
            lines.append(_scenario_table(part))
    totals = []
    for name in wanted:
        part = by_scenario[name]
        totals.append((name, _money(_sum(part, "total_cost")), _money(_sum(part, "savings_vs_baseline")),
                       _money(_sum(part, "baseline_total_cost"))))
    if len(wanted) > 1 or not by_scenario[wanted[0]][0]["is_baseline"]:
        lines.append("")
        lines.append(f"FY{first['plan_year']} totals")
        lines.append(render(["scenario", "total_cost", "savings_vs_baseline", "baseline_cost"], totals))
    return "\n".join(lines)


def check_scenarios(path: Path | None = None) -> tuple[bool, str]:
    """`civic plan --check`: (True, "ok: N scenarios in PATH") or (False, the one-line error)."""
    path = scenarios_file() if path is None else Path(path)
    try:
        rows = read_scenarios(path)
    except ScenarioError as err:
        return False, " ".join(str(err).split())
    return True, f"ok: {len(rows)} scenarios in {path}"


def plan_command(duckdb_path, scenarios: list[str] | None) -> str:
    """What `civic plan [--scenario NAME ...]` prints. Raises PlanUnavailable when there is
    no plan yet and ValueError for a scenario the plan does not have."""
    return render_plan(read_plan(Path(duckdb_path)), scenarios)
