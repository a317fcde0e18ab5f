"""3-1-1 service requests (JSON lines).

Planted per service-year: V_p closed phone requests (the phone transactions) and a few
still open (status 'open', closed_at null; not transactions). expected_at is the service
standard: requested_at + target days to complete.
"""

from __future__ import annotations

import polars as pl

from contracts.entities import ENTITIES
from ingestion.demo.clock import DAY, moment
from ingestion.demo.entity import EntitySpec
from ingestion.demo.parameters import DemoPlan
from ingestion.demo.random_streams import stream_key, with_uniforms

N_WARDS = 12
# The canonical columns the contract expects (docs/raw_tables.md): one definition.
COLUMNS = ENTITIES["service_requests"].columns


def segments(plan: DemoPlan, year: int) -> pl.DataFrame:
    rows = []
    for sp in plan.services:
        yp = sp.years[year]
        sla = round(sp.svc.target_days_to_complete * DAY)
        for role, n in (("closed", yp.phone), ("open", yp.open_requests)):
            rows.append({"service_id": sp.svc.service_id, "role": role, "n": n, "agency": sp.svc.agency, "sla_s": sla})
    return pl.DataFrame(rows, schema_overrides={"n": pl.Int64, "sla_s": pl.Int64})


def build(rows: pl.DataFrame, year: int, plan: DemoPlan) -> pl.DataFrame:
    keys = {f"u_{f}": stream_key(plan.seed, "service_requests", year, f) for f in ("day", "time", "close", "ward")}
    df = with_uniforms(rows, "rng", keys)
    df = df.with_columns(requested_at=moment(year, "u_day", "u_time", 7.5, 11, weekdays_only=True))
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
        location=pl.concat_str([pl.lit("Ward "), (1 + (pl.col("u_ward") * N_WARDS).cast(pl.Int64)).cast(pl.String)]),
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
