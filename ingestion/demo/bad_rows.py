"""Planted bad rows: about 0.5 % on top of the good rows, each bad in exactly one way.

Why on top: the good rows alone carry the planted truths, so quarantining every bad row
(and nothing else) must give the truths back, and received = loaded + quarantined.

Kinds: negative_wait (called before issued), unknown_service ('SVC-999'), missing_id (null
id), duplicate_id (the id of an earlier good row, later in the file, otherwise a valid
in-year row of the same service), outside_fiscal_year (event times moved to 1999 or 2099),
satisfaction_out_of_range (7 or 0). A bad row is built like a good row of a real segment
(so its other fields are plausible), then spoiled in one way.
"""

from __future__ import annotations

import polars as pl

from ingestion.demo.catalogue import UNKNOWN_SERVICE_ID
from ingestion.demo.clock import year_start
from ingestion.demo.layout import Layout
from ingestion.demo.random_streams import with_uniforms

BAD_RATE = 0.005
FAR_YEARS = (1999, 2099)


def plan_bad_rows(layout: Layout, kinds: tuple[str, ...], key: int) -> pl.DataFrame:
    """One row per bad row: kind, insert_at (file position of the good row it precedes;
    N = end of file), base_logical (the good row whose segment it copies), rng, id_number."""
    n_good = layout.total
    k = len(kinds)
    if not k or n_good == 0:
        return pl.DataFrame(
            schema={
                "bad": pl.Int64,
                "kind": pl.String,
                "insert_at": pl.Int64,
                "base_logical": pl.Int64,
                "rng": pl.Int64,
                "id_number": pl.Int64,
            }
        )
    n_bad = max(k, round(BAD_RATE * n_good))
    df = pl.DataFrame({"bad": pl.int_range(0, n_bad, dtype=pl.Int64, eager=True)})
    df = df.with_columns(kind=pl.lit(pl.Series(kinds, dtype=pl.String)).gather(pl.col("bad") % k))
    df = with_uniforms(df, "bad", {"u_pos": key ^ 1, "u_base": key ^ 2})
    dup = pl.col("kind") == "duplicate_id"
    n_dup = max(1, int((df["kind"] == "duplicate_id").sum()))
    rank = dup.cast(pl.Int64).cum_sum() - 1
    # Originals are stratified over the file so no id is duplicated twice.
    orig_pos = ((rank.cast(pl.Float64) + pl.col("u_base")) * (n_good / n_dup)).floor().cast(pl.Int64)
    orig_pos = pl.min_horizontal(orig_pos, pl.lit(n_good - 1))
    df = df.with_columns(orig_pos=orig_pos)
    return df.select(
        "bad",
        "kind",
        insert_at=pl.when(dup)
        .then(pl.col("orig_pos") + 1 + (pl.col("u_pos") * (n_good - pl.col("orig_pos"))).cast(pl.Int64))
        .otherwise((pl.col("u_pos") * (n_good + 1)).cast(pl.Int64)),
        base_logical=pl.when(dup)
        .then(layout.logical(pl.col("orig_pos")))
        .otherwise((pl.col("u_base") * n_good).cast(pl.Int64)),
        rng=n_good + pl.col("bad"),
    ).with_columns(id_number=pl.when(dup).then(pl.col("base_logical") + 1).otherwise(n_good + pl.col("bad") + 1))


def spoil_common(df: pl.DataFrame, year: int, id_column: str, time_columns: tuple[str, ...]) -> pl.DataFrame:
    """Apply the kinds every entity shares; `kind` is null on good rows. Times are epoch s."""
    kind = pl.col("kind")
    far = pl.when(pl.col("bad") % 2 == 0).then(year_start(FAR_YEARS[0])).otherwise(year_start(FAR_YEARS[1]))
    shift = far - year_start(year)
    exprs = [
        pl.when(kind == "missing_id").then(None).otherwise(pl.col(id_column)).alias(id_column),
        pl.when(kind == "unknown_service")
        .then(pl.lit(UNKNOWN_SERVICE_ID))
        .otherwise(pl.col("service_id"))
        .alias("service_id"),
    ]
    exprs += [
        pl.when(kind == "outside_fiscal_year").then(pl.col(c) + shift).otherwise(pl.col(c)).alias(c)
        for c in time_columns
    ]
    return df.with_columns(exprs)
