"""Web analytics sessions (JSON lines).

Planted per service-year: V_o completed sessions (last_step 'confirmation', fee charged),
started - V_o abandoned ones (last_step 'details' or 'payment'), and bounces (last_step
'start', not counted as started). Completion rate = V_o / started.

Abandonment by step (marts.online_funnel): of the abandoned sessions exactly
floor(DETAILS_SHARE x abandoned) stop at 'details', the rest at 'payment'.
Time to complete (marts.time_to_complete): completed sessions last 240 s plus a
stratified draw over the service's span (COMPLETED_SPAN_S), so their median and p90 are
240 + q x span within span / V_o seconds (truths.completion_minutes).
"""

from __future__ import annotations

import polars as pl

from contracts.entities import ENTITIES
from ingestion.demo.clock import moment
from ingestion.demo.entity import EntitySpec
from ingestion.demo.parameters import DemoPlan
from ingestion.demo.random_streams import stream_key, with_uniforms

# The canonical columns the contract expects (docs/raw_tables.md): one definition.
COLUMNS = ENTITIES["web_sessions"].columns
DETAILS_SHARE = (11, 20)  # abandoned sessions that stop at 'details' (numerator, denominator)
COMPLETED_MIN_S = 240


def completed_span_s(service_index: int) -> int:
    """Spread of a completed session's duration above COMPLETED_MIN_S, per service."""
    return 600 + 120 * (service_index % 6)


def lost_at_details(abandoned: int) -> int:
    return abandoned * DETAILS_SHARE[0] // DETAILS_SHARE[1]


def segments(plan: DemoPlan, year: int) -> pl.DataFrame:
    rows = []
    for i, sp in enumerate(plan.services):
        yp = sp.years[year]
        abandoned = yp.started - yp.online
        for role, n in (("completed", yp.online), ("abandoned", abandoned), ("bounce", yp.bounces)):
            rows.append(
                {
                    "service_id": sp.svc.service_id,
                    "role": role,
                    "n": n,
                    "fee": float(sp.svc.fee),
                    "span_s": completed_span_s(i),
                    "n_details": lost_at_details(abandoned),
                }
            )
    return pl.DataFrame(rows, schema_overrides={"n": pl.Int64, "span_s": pl.Int64, "n_details": pl.Int64})


def _pick(u: str, cuts: tuple[tuple[float, str], ...], last: str) -> pl.Expr:
    expr = pl.when(pl.col(u) < cuts[0][0]).then(pl.lit(cuts[0][1]))
    for cut, label in cuts[1:]:
        expr = expr.when(pl.col(u) < cut).then(pl.lit(label))
    return expr.otherwise(pl.lit(last))


def build(rows: pl.DataFrame, year: int, plan: DemoPlan) -> pl.DataFrame:
    keys = {
        f"u_{f}": stream_key(plan.seed, "web_sessions", year, f) for f in ("day", "time", "dur", "step", "dev", "grp")
    }
    df = with_uniforms(rows, "rng", keys)
    role = pl.col("role")
    duration = (
        pl.when(role == "completed")
        .then(COMPLETED_MIN_S + ((pl.col("local") + pl.col("u_dur")) * pl.col("span_s") / pl.col("n")).cast(pl.Int64))
        .when(role == "abandoned")
        .then(60 + (pl.col("u_dur") * 600).cast(pl.Int64))
        .otherwise(5 + (pl.col("u_dur") * 90).cast(pl.Int64))
    )
    last_step = (
        pl.when(role == "completed")
        .then(pl.lit("confirmation"))
        .when(role == "bounce")
        .then(pl.lit("start"))
        .when(pl.col("local") < pl.col("n_details"))
        .then(pl.lit("details"))
        .otherwise(pl.lit("payment"))
    )
    df = df.with_columns(started_at=moment(year, "u_day", "u_time", 6, 18, weekdays_only=False))
    return df.select(
        service_id=pl.col("service_id"),
        started_at=pl.col("started_at"),
        ended_at=pl.col("started_at") + duration,
        completed=role == "completed",
        last_step=last_step,
        fee_amount=pl.when(role == "completed").then(pl.col("fee")).otherwise(None).cast(pl.Float64),
        device_category=_pick("u_dev", ((0.55, "mobile"), (0.92, "desktop")), "tablet"),
        channel_group=_pick(
            "u_grp", ((0.30, "direct"), (0.70, "organic_search"), (0.85, "referral"), (0.95, "email")), "social"
        ),
    )


SPEC = EntitySpec(
    name="web_sessions",
    id_column="session_id",
    id_prefix="WEB",
    columns=COLUMNS,
    kinds=("unknown_service", "missing_id", "duplicate_id", "outside_fiscal_year"),
    fmt="jsonl",
    file_name="sessions.jsonl",
    segments=segments,
    build=build,
)
