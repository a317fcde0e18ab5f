"""3-1-1 service requests (JSON lines).

Planted per service-year: V_p closed phone requests (the phone transactions) and a few
still open (status 'open', closed_at null; not transactions). expected_at is the service
standard: requested_at + target days to complete.

A planted surge (marts.request_workload, marts.request_hot_spots): in SURGE_YEAR the first
floor(V_p / SURGE_DIVISOR) closed requests of SURGE_SERVICE are all made in Ward 1 within
fiscal week SURGE_WEEK (days 7(w-1) .. 7w-1 of the year), so that week stands far above
the service's other weeks and all but the first of them repeat an earlier request of
the same ward within a week. Counts and standards are unchanged.
"""

from __future__ import annotations

import polars as pl

from contracts.entities import ENTITIES
from ingestion.demo.clock import DAY, moment, year_start
from ingestion.demo.entity import EntitySpec
from ingestion.demo.parameters import DemoPlan
from ingestion.demo.random_streams import stream_key, with_uniforms

N_WARDS = 12
# The canonical columns the contract expects (docs/raw_tables.md): one definition.
COLUMNS = ENTITIES["service_requests"].columns
SURGE_SERVICE = "SVC-003"
SURGE_YEAR = 2024
SURGE_WEEK = 10
SURGE_DIVISOR = 6


def surge_requests(service_id: str, year: int, closed: int) -> int:
    """How many of a service-year's closed requests the surge week holds (0 outside it)."""
    return closed // SURGE_DIVISOR if (service_id, year) == (SURGE_SERVICE, SURGE_YEAR) else 0


def segments(plan: DemoPlan, year: int) -> pl.DataFrame:
    rows = []
    for sp in plan.services:
        yp = sp.years[year]
        sla = round(sp.svc.target_days_to_complete * DAY)
        for role, n in (("closed", yp.phone), ("open", yp.open_requests)):
            surge = surge_requests(sp.svc.service_id, year, yp.phone) if role == "closed" else 0
            rows.append(
                {
                    "service_id": sp.svc.service_id,
                    "role": role,
                    "n": n,
                    "agency": sp.svc.agency,
                    "sla_s": sla,
                    "surge_n": surge,
                }
            )
    return pl.DataFrame(rows, schema_overrides={"n": pl.Int64, "sla_s": pl.Int64, "surge_n": pl.Int64})


def build(rows: pl.DataFrame, year: int, plan: DemoPlan) -> pl.DataFrame:
    keys = {f"u_{f}": stream_key(plan.seed, "service_requests", year, f) for f in ("day", "time", "close", "ward")}
    df = with_uniforms(rows, "rng", keys)
    in_surge = pl.col("local") < pl.col("surge_n")
    surge_at = (
        year_start(year)
        + (7 * (SURGE_WEEK - 1) + (pl.col("u_day") * 7).cast(pl.Int64)) * DAY
        + int(7.5 * 3600)
        + (pl.col("u_time") * 11 * 3600).cast(pl.Int64)
    )
    df = df.with_columns(
        requested_at=pl.when(in_surge)
        .then(surge_at)
        .otherwise(moment(year, "u_day", "u_time", 7.5, 11, weekdays_only=True)),
        ward=pl.when(in_surge).then(1).otherwise(1 + (pl.col("u_ward") * N_WARDS).cast(pl.Int64)),
    )
    # u^2 skews closure early: about 4 in 5 requests close within the standard.
    took = 900 + (pl.col("u_close") * pl.col("u_close") * 1.6 * pl.col("sla_s")).cast(pl.Int64)
    return df.select(
        service_id=pl.col("service_id"),
        channel=pl.lit("phone"),
        requested_at=pl.col("requested_at"),
        closed_at=pl.when(pl.col("role") == "closed")
        .then(pl.col("requested_at") + took)
        .otherwise(None)
        .cast(pl.Int64),
        expected_at=pl.col("requested_at") + pl.col("sla_s"),
        status=pl.col("role"),
        agency=pl.col("agency"),
        location=pl.concat_str([pl.lit("Ward "), pl.col("ward").cast(pl.String)]),
        area=pl.concat_str([pl.lit("Ward "), pl.col("ward").cast(pl.String)]),
    )


SPEC = EntitySpec(
    name="service_requests",
    id_column="request_id",
    id_prefix="REQ",
    columns=COLUMNS,
    kinds=("unknown_service", "missing_id", "duplicate_id", "outside_fiscal_year"),
    fmt="jsonl",
    file_name="requests.jsonl",
    segments=segments,
    build=build,
)
