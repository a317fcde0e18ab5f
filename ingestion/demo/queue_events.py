"""Queue tickets from counter devices (Parquet parts).

Planted per service-year: V_i served tickets, some transferred (called, then sent on) and
some no-shows (never called). The mean wait over called tickets (served + transferred) is
exactly w[s,y]: waits are whole seconds in symmetric pairs W - d, W + d around W = 60 w
(d <= 0.95 W, so no wait is negative); an odd one out waits exactly W. A served ticket's
service time (called -> completed) is 180 s plus a stratified draw over the service's span
(SERVED_SPAN_S), so its median and p90 are 180 + q x span within span / V_i seconds.
"""

from __future__ import annotations

import polars as pl

from contracts.entities import ENTITIES
from ingestion.demo.clock import moment
from ingestion.demo.entity import EntitySpec
from ingestion.demo.parameters import DemoPlan
from ingestion.demo.random_streams import stream_key, with_uniforms

N_SITES = 9
# The canonical columns the contract expects (docs/raw_tables.md): one definition.
COLUMNS = ENTITIES["queue_events"].columns
SERVED_MIN_S = 180


def served_span_s(service_index: int) -> int:
    """Spread of a served ticket's service time above SERVED_MIN_S, per service."""
    return 600 + 60 * (service_index % 6)


def segments(plan: DemoPlan, year: int) -> pl.DataFrame:
    rows = []
    start = 0  # logical start of each segment (same order as Layout lays them out)
    for i, sp in enumerate(plan.services):
        yp = sp.years[year]
        wait_s = sp.years[year].wait_minutes * 60
        assert wait_s.denominator == 1
        called = yp.in_person + yp.transferred
        base = start
        for role, n, offset in (
            ("served", yp.in_person, 0),
            ("transferred", yp.transferred, yp.in_person),
            ("no_show", yp.no_show, -1),
        ):
            rows.append(
                {
                    "service_id": sp.svc.service_id,
                    "role": role,
                    "n": n,
                    "wait_s": int(wait_s),
                    "called_n": called,
                    "called_base": base,
                    "called_offset": offset,
                    "site_a": i % N_SITES + 1,
                    "site_b": (i + 4) % N_SITES + 1,
                    "span_s": served_span_s(i),
                }
            )
            start += n
    return pl.DataFrame(rows, schema_overrides={"n": pl.Int64, "called_base": pl.Int64, "span_s": pl.Int64})


def build(rows: pl.DataFrame, year: int, plan: DemoPlan) -> pl.DataFrame:
    keys = {f"u_{f}": stream_key(plan.seed, "queue_events", year, f) for f in ("day", "time", "svc", "site", "dev")}
    df = with_uniforms(rows, "rng", keys)
    j = pl.col("called_offset") + pl.col("local")
    df = df.with_columns(j=j, pair_rng=pl.col("called_base") + 2 * (j.clip(0, None) // 2))  # no-shows: j < 0
    df = with_uniforms(df, "pair_rng", {"u_wait": stream_key(plan.seed, "queue_events", year, "wait")})
    w = pl.col("wait_s")
    delta = (pl.col("u_wait") * w * 0.95).cast(pl.Int64)
    odd_last = (pl.col("j") == pl.col("called_n") - 1) & (pl.col("called_n") % 2 == 1)
    wait = (
        pl.when(pl.col("role") == "no_show")
        .then(None)
        .when(odd_last)
        .then(w)
        .when(pl.col("j") % 2 == 0)
        .then(w - delta)
        .otherwise(w + delta)
    ).cast(pl.Int64)
    service_s = (
        pl.when(pl.col("role") == "served")
        .then(SERVED_MIN_S + ((pl.col("local") + pl.col("u_svc")) * pl.col("span_s") / pl.col("n")).cast(pl.Int64))
        .otherwise(60 + (pl.col("u_svc") * 240).cast(pl.Int64))
    )
    site = pl.when(pl.col("u_site") < 0.6).then(pl.col("site_a")).otherwise(pl.col("site_b"))
    df = df.with_columns(
        issued_at=moment(year, "u_day", "u_time", 8, 9, weekdays_only=True),
        site=site,
    ).with_columns(called_at=pl.col("issued_at") + wait)
    return df.select(
        site_id=pl.concat_str([pl.lit("SITE-"), pl.col("site").cast(pl.String).str.zfill(2)]),
        service_id=pl.col("service_id"),
        issued_at=pl.col("issued_at"),
        called_at=pl.col("called_at"),
        completed_at=(pl.col("called_at") + service_s).cast(pl.Int64),
        outcome=pl.col("role"),
        device_id=pl.concat_str(
            [
                pl.lit("KIOSK-"),
                pl.col("site").cast(pl.String).str.zfill(2),
                pl.lit("-"),
                (1 + (pl.col("u_dev") * 3).cast(pl.Int64)).cast(pl.String),
            ]
        ),
    )


def spoil(df: pl.DataFrame) -> pl.DataFrame:
    """negative_wait: a served ticket called 1-30 minutes before it was issued."""
    neg = pl.col("kind") == "negative_wait"
    early = 60 + (pl.col("bad") * 7919) % 1740
    return df.with_columns(
        called_at=pl.when(neg).then(pl.col("issued_at") - early).otherwise(pl.col("called_at")),
        completed_at=pl.when(neg).then(pl.col("issued_at") - early + 420).otherwise(pl.col("completed_at")),
        outcome=pl.when(neg).then(pl.lit("served")).otherwise(pl.col("outcome")),
    )


SPEC = EntitySpec(
    name="queue_events",
    id_column="ticket_id",
    id_prefix="TKT",
    columns=COLUMNS,
    kinds=("negative_wait", "unknown_service", "missing_id", "duplicate_id", "outside_fiscal_year"),
    fmt="parquet",
    file_name="part-{part:04d}.parquet",
    segments=segments,
    build=build,
    spoil=spoil,
)
