"""Micro-benchmark of the cross-batch `unique_id` rule (not a test, not part of `python -m bench`).

Runs the rule as the contract does (the pandera check of `schema_for`, then the ids the
batch accepted are remembered) over synthetic ticket ids in batches of a reader's size,
with a few planted duplicates of earlier batches, and prints wall and CPU seconds (CPU
seconds are the steadier figure on a shared machine) per load size:

    uv run python -m bench.seen_ids --rows 2000000 20000000 --batch 262144
"""

from __future__ import annotations

import argparse
import time

import polars as pl

from contracts.entities import QUEUE_EVENTS
from contracts.rules import LoadContext, schema_for


def synthetic_ids(rows: int, duplicate_every: int) -> pl.Series:
    """TKT-2025-00000001 ... with every `duplicate_every`-th id repeating one 1000 ids earlier."""
    number = pl.int_range(0, rows, eager=True, dtype=pl.Int64)
    number = pl.select(
        pl.when((number % duplicate_every == duplicate_every - 1) & (number >= 1000))
        .then(number - 1000)
        .otherwise(number)
    ).to_series()
    return pl.select(pl.concat_str([pl.lit("TKT-2025-"), pl.lit(number).cast(pl.String).str.zfill(8)])).to_series()


def run(rows: int, batch: int, duplicate_every: int = 100_003) -> tuple[float, float, int]:
    """Wall and CPU seconds for one load of `rows` ids, and the number of ids rejected."""
    ids = synthetic_ids(rows, duplicate_every).alias(QUEUE_EVENTS.id_column)
    ctx = LoadContext(None)
    check = next(
        c for c in schema_for(QUEUE_EVENTS, ctx).columns[QUEUE_EVENTS.id_column].checks if c.name == "unique_id"
    )
    rejected = 0
    t0, c0 = time.perf_counter(), time.process_time()
    for offset in range(0, rows, batch):
        chunk = ids.slice(offset, batch)
        ok = check(chunk.to_frame().lazy(), chunk.name).check_output.collect().to_series()
        rejected += int((~ok).sum())
        ctx.seen_ids.add(chunk.filter(ok))
    return time.perf_counter() - t0, time.process_time() - c0, rejected


def main() -> None:
    p = argparse.ArgumentParser(
        prog="python -m bench.seen_ids", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--rows", type=int, nargs="+", default=[2_000_000])
    p.add_argument("--batch", type=int, default=262_144, help="rows per batch (Parquet reader: 262144)")
    args = p.parse_args()
    for rows in args.rows:
        wall, cpu, rejected = run(rows, args.batch)
        print(
            f"rows={rows:,} batch={args.batch:,} batches={-(-rows // args.batch)} "
            f"wall_s={wall:.2f} cpu_s={cpu:.2f} rejected={rejected:,}"
        )


if __name__ == "__main__":
    main()
