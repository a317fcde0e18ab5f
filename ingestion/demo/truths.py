"""demo_truths.json: the measures the marts must reproduce, in closed form from the plan.

Why closed form: the truths never re-read the generated files, so a test that counts the
files checks the generator, and a mart that matches the truths checks the pipeline.

Costs follow the apportionment rule documented in costs.py (executed phase; service-level
costs to channels by volume share; shared centres to services by that channel's volume
share). cost_per_minute_wait_reduced is (in-person cost_y - in-person cost_y-1) / (mean wait
y-1 - mean wait y): null in the first generated year and where the wait did not improve.
Rates are fractions 0..1; money is in CURRENCY with 2-decimal amounts.

Times to complete are stratified draws (web_sessions.py, queue_events.py): the planted
median and p90 are MIN + q x span, and a sample quantile of n rows lies within
2 x span / n + 1 seconds of it (`tolerance_minutes`).
"""

from __future__ import annotations

from fractions import Fraction as F

from ingestion.demo.bad_rows import BAD_RATE
from ingestion.demo.costs import (
    CHANNELS,
    channel_cost_cents,
    investment_cents,
    shared_cents,
)
from ingestion.demo.ledger import fee_revenue_cents
from ingestion.demo.parameters import (
    ANCHOR_YEAR,
    CURRENCY,
    SHARED_CENTRES,
    DemoPlan,
    ServicePlan,
)
from ingestion.demo.queue_events import SERVED_MIN_S, served_span_s
from ingestion.demo.service_requests import SURGE_SERVICE, SURGE_WEEK, SURGE_YEAR, surge_requests
from ingestion.demo.web_sessions import COMPLETED_MIN_S, completed_span_s, lost_at_details


def _f(x: F | int | None) -> float | None:
    return None if x is None else float(x)


def _money(cents: int | F) -> float:
    return float(F(cents) / 100)


def _ratio(num, den) -> F | None:
    return None if den == 0 else F(num) / F(den)


def _cost_per_minute(plan: DemoPlan, sp: ServicePlan, year: int) -> F | None:
    prev = year - 1
    if prev not in sp.years:
        return None
    reduced = sp.years[prev].wait_minutes - sp.years[year].wait_minutes
    if reduced <= 0:
        return None
    change = channel_cost_cents(plan, sp, year, "in_person") - channel_cost_cents(plan, sp, prev, "in_person")
    return F(change, 100) / reduced


def completion_minutes(min_s: int, span_s: int, n: int) -> dict | None:
    """Planted median and p90 (minutes) of n stratified durations min_s + [0, span_s)."""
    if n == 0:
        return None
    return {
        "median": (min_s + span_s / 2) / 60,
        "p90": (min_s + 0.9 * span_s) / 60,
        "tolerance_minutes": (2 * span_s / n + 1) / 60,
    }


def online_funnel(yp) -> dict:
    """Sessions reaching and stopping at each step (start, details, payment, confirmation)."""
    abandoned = yp.started - yp.online
    details = lost_at_details(abandoned)
    return {
        "reached": {
            "start": yp.started + yp.bounces,
            "details": yp.started,
            "payment": yp.started - details,
            "confirmation": yp.online,
        },
        "lost": {"start": yp.bounces, "details": details, "payment": abandoned - details, "confirmation": 0},
    }


def service_year(plan: DemoPlan, sp: ServicePlan, year: int) -> dict:
    yp = sp.years[year]
    index = plan.services.index(sp)
    volume = {ch: yp.volume(ch) for ch in CHANNELS}
    volume["all"] = yp.transactions
    cost = {ch: channel_cost_cents(plan, sp, year, ch) for ch in CHANNELS}
    cost["all"] = sum(cost.values())
    cpt = {ch: _ratio(cost[ch], volume[ch] * 100) for ch in cost}
    answered = sum(yp.satisfaction)
    mean = _ratio(sum(level * n for level, n in zip(range(1, 6), yp.satisfaction)), answered)

    def advantage(other: str) -> float | None:
        if cpt["online"] is None or cpt[other] is None:
            return None
        return _f(cpt[other] - cpt["online"])

    return {
        "name": sp.svc.name,
        "priority_area": sp.svc.priority_area,
        "transactions": volume,
        "started_online": yp.started,
        "cost": {ch: _money(c) for ch, c in cost.items()},
        "cost_per_transaction": {ch: _f(v) for ch, v in cpt.items()},
        "digital_take_up": _f(_ratio(yp.online, yp.transactions)),
        "completion_rate": _f(_ratio(yp.online, yp.started)),
        "satisfaction_counts": {str(level): n for level, n in zip(range(1, 6), yp.satisfaction)},
        "satisfaction_dont_know": yp.dont_know,
        "satisfaction_top2_pct": _f(_ratio(yp.satisfaction[3] + yp.satisfaction[4], answered)),
        "satisfaction_score": None if mean is None else _f((mean - 1) / 4),
        "mean_wait_minutes": _f(yp.wait_minutes),
        "cost_per_minute_wait_reduced": _f(_cost_per_minute(plan, sp, year)),
        "online_cost_advantage_vs_in_person": advantage("in_person"),
        "online_cost_advantage_vs_phone": advantage("phone"),
        "online_minutes_to_complete": completion_minutes(COMPLETED_MIN_S, completed_span_s(index), yp.online),
        "in_person_service_minutes": completion_minutes(SERVED_MIN_S, served_span_s(index), yp.in_person),
        "online_funnel": online_funnel(yp) if sp.svc.online else None,
        "fee_revenue_online": _money(round(sp.svc.fee * 100) * yp.online),
        # fees booked as ledger fee revenue lines, by channel (ledger.FEE_REVENUE_PLANT)
        "fee_revenue_ledger": {ch: _money(c) for ch, c in fee_revenue_cents(sp, year).items()},
        "planted_rows": {
            "queue_events": {"served": yp.in_person, "transferred": yp.transferred, "no_show": yp.no_show},
            "web_sessions": {"completed": yp.online, "abandoned": yp.started - yp.online, "bounces": yp.bounces},
            "service_requests": {"closed": yp.phone, "open": yp.open_requests},
            "survey_responses": {"answered": answered, "dont_know": yp.dont_know},
        },
    }


def _service_info(sp: ServicePlan) -> dict:
    s = sp.svc
    return {
        "name": s.name,
        "priority_area": s.priority_area,
        "agency": s.agency,
        "cofog_division": s.cofog_division,
        "channels": list(s.channels),
        "fee": float(s.fee),
        "target_wait_minutes": float(s.target_wait_minutes),
        "target_days_to_complete": float(s.target_days_to_complete),
        "unit_cost": {ch: _money(c) for ch, c in sp.unit_cost_cents.items()},
        "overhead_per_transaction": _money(sp.overhead_cents),
        "price_per_minute_wait_reduced": _money(sp.price_per_minute_cents),
        "wait_minutes_at_anchor": float(sp.wait_anchor),
        "wait_step_minutes": float(sp.wait_step),
    }


def _request_surge(plan: DemoPlan) -> dict | None:
    """The planted 3-1-1 surge week (service_requests.py), when its year is generated."""
    if SURGE_YEAR not in plan.years:
        return None
    sp = next(sp for sp in plan.services if sp.svc.service_id == SURGE_SERVICE)
    n = surge_requests(SURGE_SERVICE, SURGE_YEAR, sp.years[SURGE_YEAR].phone)
    return {
        "service_id": SURGE_SERVICE,
        "fiscal_year": SURGE_YEAR,
        "week_of_year": SURGE_WEEK,
        "location": "Ward 1",
        "planted_requests": n,
        "planted_repeats": n - 1,
    }


def build_truths(plan: DemoPlan, written: dict, bad_rows: list[dict], files: dict) -> dict:
    """`written`: {entity: {year: (good, bad)}}; bad_rows and files as they go to the file."""
    measures = {str(y): {sp.svc.service_id: service_year(plan, sp, y) for sp in plan.services} for y in plan.years}
    executed = {
        str(y): _money(sum(channel_cost_cents(plan, sp, y, ch) for sp in plan.services for ch in CHANNELS))
        for y in plan.years
    }
    return {
        "generator": {
            "seed": plan.seed,
            "size": plan.size,
            "years": list(plan.years),
            "fiscal_year_start_month": 1,
            "anchor_year": ANCHOR_YEAR,
            "currency": CURRENCY,
            "bad_row_rate": BAD_RATE,
        },
        "services": {sp.svc.service_id: _service_info(sp) for sp in plan.services},
        "shared_costs": {
            str(y): {centre: _money(shared_cents(plan, y, ch)) for ch, centre in SHARED_CENTRES.items()}
            for y in plan.years
        },
        "wait_investment": {
            str(y): {sp.svc.service_id: _money(investment_cents(sp, y)) for sp in plan.services} for y in plan.years
        },
        "executed_cost_total": executed,
        "request_surge": _request_surge(plan),
        "measures": measures,
        "bad_rows": bad_rows,
        "rows_written": {
            entity: {str(y): {"good": g, "bad": b, "total": g + b} for y, (g, b) in per_year.items()}
            for entity, per_year in written.items()
        },
        "files": files,
    }
