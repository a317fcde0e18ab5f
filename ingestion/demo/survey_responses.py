"""Citizen survey responses (CSV).

Planted per service-year: exact counts per satisfaction level 1..5 plus "don't know"
(empty satisfaction). Channels are spread over the service's channels; in-person
respondents also report a perceived wait. respondent_key is the synthetic citizen's id
in clear (`CIT-0000042`), as a real survey system would deliver it: ingestion
pseudonymises it at the door (ingestion.pseudonymise), so no mart, quarantine row or
published file holds it.
"""

from __future__ import annotations

import functools

import polars as pl

from contracts.entities import ENTITIES
from ingestion.demo.clock import moment
from ingestion.demo.entity import EntitySpec
from ingestion.demo.parameters import DemoPlan
from ingestion.demo.random_streams import stream_key, with_uniforms

# The canonical columns the contract expects (docs/raw_tables.md): one definition.
COLUMNS = ENTITIES["survey_responses"].columns


def citizen_pool_size(size: float) -> int:
    """Respondents are drawn from a bounded pool of citizens (people answer more than once)."""
    return min(200_000, max(500, round(20_000 * size)))


@functools.lru_cache(maxsize=4)
def respondent_keys(pool: int) -> pl.Series:
    """The pool's citizen ids, made once per pool (not per row)."""
    return pl.Series("respondent_key", [citizen_id(i) for i in range(pool)], dtype=pl.String)


def citizen_id(i: int) -> str:
    return f"CIT-{i:07d}"


def segments(plan: DemoPlan, year: int) -> pl.DataFrame:
    rows = []
    for sp in plan.services:
        yp = sp.years[year]
        levels = [(level, n) for level, n in zip(range(1, 6), yp.satisfaction)] + [(None, yp.dont_know)]
        for level, n in levels:
            rows.append(
                {
                    "service_id": sp.svc.service_id,
                    "n": n,
                    "level": level,
                    "channels": list(sp.svc.channels),
                    "wait_min": float(yp.wait_minutes),
                }
            )
    return pl.DataFrame(rows, schema_overrides={"n": pl.Int64, "level": pl.Int32})


def build(rows: pl.DataFrame, year: int, plan: DemoPlan) -> pl.DataFrame:
    keys = {
        f"u_{f}": stream_key(plan.seed, "survey_responses", year, f)
        for f in ("day", "time", "chan", "pw", "nps_null", "nps", "who")
    }
    df = with_uniforms(rows, "rng", keys)
    pool = respondent_keys(citizen_pool_size(plan.size))
    channel = pl.col("channels").list.get((pl.col("u_chan") * pl.col("channels").list.len()).cast(pl.Int64))
    level = pl.col("level")
    # Perceived waits run longer than measured ones, more so for unhappy respondents.
    perceived = (pl.col("wait_min") * (0.8 + 0.8 * pl.col("u_pw")) + 2 * (3 - level.fill_null(3))).round(0)
    nps = (
        pl.when(pl.col("u_nps_null") < 0.35)
        .then(None)
        .when(level.is_null())
        .then((pl.col("u_nps") * 11).cast(pl.Int64))
        .otherwise((2 * level - 2 + (pl.col("u_nps") * 3).cast(pl.Int64)).clip(0, 10))
    )
    df = df.with_columns(channel=channel, responded_at=moment(year, "u_day", "u_time", 8, 13, weekdays_only=False))
    return df.select(
        service_id=pl.col("service_id"),
        channel=pl.col("channel"),
        responded_at=pl.col("responded_at"),
        satisfaction=level.cast(pl.Int32),
        nps=nps.cast(pl.Int32),
        perceived_wait_minutes=pl.when(pl.col("channel") == "in_person")
        .then(perceived.clip(1, None))
        .otherwise(None)
        .cast(pl.Float64),
        respondent_key=pl.lit(pool).gather((pl.col("u_who") * len(pool)).cast(pl.Int64)),
    )


def spoil(df: pl.DataFrame) -> pl.DataFrame:
    """satisfaction_out_of_range: 7 or 0 on a 1..5 scale."""
    out = pl.col("kind") == "satisfaction_out_of_range"
    return df.with_columns(
        satisfaction=pl.when(out)
        .then(pl.when(pl.col("bad") % 2 == 0).then(7).otherwise(0))
        .otherwise(pl.col("satisfaction"))
        .cast(pl.Int32)
    )


SPEC = EntitySpec(
    name="survey_responses",
    id_column="response_id",
    id_prefix="RSP",
    columns=COLUMNS,
    kinds=("unknown_service", "missing_id", "duplicate_id", "outside_fiscal_year", "satisfaction_out_of_range"),
    fmt="csv",
    file_name="responses.csv",
    segments=segments,
    build=build,
    spoil=spoil,
)
