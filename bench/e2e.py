"""3. End-to-end refresh of one fiscal year through Dagster: wall time and peak memory.

Each rep runs `civic refresh --years Y` in a fresh process on an empty lake (new
CIVIC_HOME, shared landing files): Python start and imports, the dbt manifest check,
every raw load with its checks, `dbt build` and the publication of the marts to Iceberg.
Peak memory is the summed RSS of the CLI process and all its children (dbt), sampled
every 50 ms. `refresh_s` is the time the CLI itself reports (without interpreter start).

Floor: the ingestion floor (all entities) plus the mart floor (the DuckDB query), as
measured in the same run.
"""

from __future__ import annotations

import re
import sys

from bench.env import REPO, civic_env, fresh_dir
from bench.stats import repeat, run_measured, summary

_DONE = re.compile(r"Refresh done in ([0-9.]+)s")


def refresh_once(ctx, home, year: int) -> dict:
    """`civic refresh --years year` on `home`, measured."""
    env = civic_env(home, ctx.landing)
    cmd = [sys.executable, "-m", "orchestration.cli", "refresh", "--years", str(year)]
    res = run_measured(cmd, env, cwd=str(REPO))
    if res["returncode"] != 0:
        tail = "\n".join(res["output"].splitlines()[-25:])
        raise RuntimeError(f"civic refresh --years {year} failed (exit {res['returncode']}):\n{tail}")
    done = _DONE.search(res["output"])
    return {
        "seconds": res["seconds"],
        "refresh_s": float(done.group(1)) if done else None,
        "peak_rss_bytes": res["peak_rss_bytes"],
        "rss_samples": res["rss_samples"],
    }


def measure(ctx) -> dict:
    year = ctx.year

    def one(i: int) -> dict:
        home = fresh_dir(ctx.scratch / f"e2e-{i}")
        try:
            return refresh_once(ctx, home, year)
        finally:
            if not ctx.keep:
                fresh_dir(home)

    runs = repeat(one, ctx.reps, ctx.log, f"civic refresh FY{year}")
    ingest_floor, mart_floor = ctx.floors()
    floor = ingest_floor + mart_floor
    wall = summary([r["seconds"] for r in runs])
    return {
        "fiscal_year": year,
        "wall_s": wall,
        "refresh_s": summary([r["refresh_s"] for r in runs]),
        "peak_rss_bytes": summary([r["peak_rss_bytes"] for r in runs]),
        "peak_rss_gib": summary([r["peak_rss_bytes"] / 2**30 for r in runs]),
        "floor_s": floor,
        "floor_parts_s": {"ingestion_floor": ingest_floor, "mart_floor": mart_floor},
        "ratio_to_floor": wall["median"] / floor if floor else None,
    }
