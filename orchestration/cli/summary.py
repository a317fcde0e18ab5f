"""The summary `civic demo` ends with: the per-service KPIs of the newest year, the
scorecard status per service (marts.scorecard_summary), next year's plan under the baseline
and the +25-point online scenario (marts.budget_plan and budget_plan_totals), and a closing
note that quotes the values the marts recovered against the ones the demo generator planted
(landing/demo_truths.json). The marts compute; this module selects, rounds and prints."""

from __future__ import annotations

import json
from pathlib import Path

from lake.marts_query import run_query
from orchestration.cli.display import render
from orchestration.cli.plan import Plan, PlanUnavailable, read_full_plan, render_plan

SUMMARY_SQL = """
select service_id, service_name, transactions,
       round(cost_per_transaction, 2) as cost_per_transaction,
       round(digital_take_up * 100, 1) as digital_take_up_pct,
       round(completion_rate * 100, 1) as completion_rate_pct,
       round(satisfaction_top2_pct * 100, 1) as satisfied_pct,
       round(mean_wait_minutes, 1) as mean_wait_minutes
from marts.service_channel_kpis
where fiscal_year = {year} and channel = 'all'
order by service_id
"""

SCORECARD_SQL = """
select service_id, service_name, met, near, missed, not_scored,
       round(mean_score, 3) as mean_score, missed_measures
from marts.scorecard_summary
where fiscal_year = {year}
order by service_id
"""

PLAN_SCENARIOS = ("baseline", "online_plus_25")


def print_summary(duckdb_path: Path, fiscal_year: int, landing: Path | None = None) -> None:
    """Print the demo's end summary. `landing` (default: the settings' landing location)
    is where demo_truths.json is looked for; without it the closing note is left out."""
    year = int(fiscal_year)
    result = run_query(duckdb_path, SUMMARY_SQL.format(year=year))
    print(f"\nFY{year}: per-service summary (marts.service_channel_kpis, channel = all)")
    print(render(result.columns, result.rows))

    scorecard = run_query(duckdb_path, SCORECARD_SQL.format(year=year))
    print(
        f"\nFY{year}: scorecard status per service (marts.scorecard; not_scored = no target, no actual or channel not offered)"
    )
    print(render(scorecard.columns, scorecard.rows))

    try:
        plan: Plan | None = read_full_plan(duckdb_path)
    except PlanUnavailable as err:
        print(f"\nNo budget plan: {err}")
        plan = None
    if plan:
        wanted = [s for s in PLAN_SCENARIOS if s in plan.totals] or None
        print()
        print(render_plan(plan.rows, wanted, totals=plan.totals))

    if landing is None:
        from lake.settings import load_settings

        landing = Path(load_settings().landing)
    truths_file = Path(landing) / "demo_truths.json"
    if truths_file.exists() and plan:
        print()
        print(closing_note(duckdb_path, json.loads(truths_file.read_text()), year, plan))


def _rel(got: float, want: float) -> float:
    return abs(got / want - 1) if want else abs(got)


def planted_shift_savings(measures: dict, points: float) -> float:
    """What the planted channel costs imply a shift of `points` online saves, summed over
    services: min(points/100, non-digital share) x volume x (non-digital CPT - online CPT),
    from the planted costs and transactions per channel (0 without online transactions)."""
    total = 0.0
    for m in measures.values():
        tx, cost = m["transactions"], m["cost"]
        online = tx.get("online", 0)
        offline_tx = tx.get("phone", 0) + tx.get("in_person", 0)
        if not online or not offline_tx or not tx["all"]:
            continue
        offline_cpt = (cost.get("phone", 0) + cost.get("in_person", 0)) / offline_tx
        shift = min(points / 100, offline_tx / tx["all"])
        total += shift * tx["all"] * (offline_cpt - cost["online"] / online)
    return total


def closing_note(duckdb_path: Path, truths: dict, year: int, plan: Plan) -> str:
    """Recovered vs planted: cost per minute of mean wait reduced and online cost advantage
    (FY`year`, per service), the plan's baseline against the planted executed cost, and the
    +25-point scenario's savings against what the planted channel costs imply."""
    measures = truths["measures"].get(str(year), {})
    lines = [f"Planted (demo_truths.json) vs recovered (marts), FY{year}:"]

    def per_service(label: str, planted: dict[str, float], recovered: dict[str, float]) -> None:
        pairs = [(sid, planted[sid], recovered.get(sid)) for sid in sorted(planted) if planted[sid] is not None]
        missing = [sid for sid, _, got in pairs if got is None]
        pairs = [(sid, want, got) for sid, want, got in pairs if got is not None]
        if not pairs:
            lines.append(f"  {label}: nothing to compare")
            return
        sid, want, got = max(pairs, key=lambda p: _rel(p[2], p[1]))
        lo, hi = min(p[1] for p in pairs), max(p[1] for p in pairs)
        lines.append(
            f"  {label}: {len(pairs)} services, planted {lo:,.2f} .. {hi:,.2f}; recovered within "
            f"{100 * _rel(got, want):.2f} % (worst {sid}: {got:,.2f} vs planted {want:,.2f})"
            + (f"; not recovered: {', '.join(missing)}" if missing else "")
        )

    wait = run_query(
        duckdb_path,
        f"""
        select service_id, cost_per_unit_improvement from marts.cost_per_outcome
        where fiscal_year = {int(year)} and outcome = 'mean_wait_minutes'""",
    )
    per_service(
        "cost per minute of mean wait reduced",
        {sid: m["cost_per_minute_wait_reduced"] for sid, m in measures.items()},
        {sid: v for sid, v in wait.rows if v is not None},
    )
    adv = run_query(
        duckdb_path,
        f"""
        select service_id, online_cost_advantage_vs_in_person, online_cost_advantage_vs_phone
        from marts.unit_costs where fiscal_year = {int(year)} and channel = 'all'""",
    )
    per_service(
        "online cost advantage vs in person",
        {sid: m["online_cost_advantage_vs_in_person"] for sid, m in measures.items()},
        {sid: v for sid, v, _ in adv.rows if v is not None},
    )
    per_service(
        "online cost advantage vs phone",
        {sid: m["online_cost_advantage_vs_phone"] for sid, m in measures.items()},
        {sid: v for sid, _, v in adv.rows if v is not None},
    )

    plan_year = plan.rows[0]["plan_year"]
    base_year = plan.rows[0]["base_fiscal_year"]
    if base_year == year and str(year) in truths.get("executed_cost_total", {}):
        baseline = sum(float(t["total_cost"]) for t in plan.totals.values() if t["is_baseline"])
        planted = truths["executed_cost_total"][str(year)]
        lines.append(
            f"  FY{plan_year} baseline = FY{year} volume x mix x CPT: {baseline:,.2f} "
            f"vs planted FY{year} executed cost {planted:,.2f} ({100 * _rel(baseline, planted):.2f} %)"
        )
        shifted = plan.totals.get("online_plus_25")
        if shifted:
            savings = float(shifted["savings_vs_baseline"])
            implied = planted_shift_savings(measures, 25)
            lines.append(
                f"  FY{plan_year} online +25 points saves {savings:,.2f} vs {implied:,.2f} implied by "
                f"the planted channel costs ({100 * _rel(savings, implied):.2f} %)"
            )
    return "\n".join(lines)
