"""4. Incremental cost: refresh FY2025 with one year of history in the lake vs five.

History is put in place untimed, through the same code the refresh runs but without
Dagster (FY2020 is before the first fiscal-year partition): every entity of each history
year loaded by `ingest_year`, the marts built by one `dbt build` over the history years and
published to Iceberg. Then the refresh of FY2025 runs `reps` times on each lake, the two
cases alternating so both see the same background load (the first run loads FY2025, the
next ones replace it), in this process through
`orchestration.cli.refresh.run_refresh` (what `civic refresh` calls), so interpreter start and
imports, which do not depend on the history, do not dilute the ratio. A refresh should
cost the same whatever the history: the target is median(5 years) / median(1 year) <= 1.2.
"""

from __future__ import annotations

import contextlib
import io
import time

from bench.env import activate, fresh_dir
from bench.ingest import ingest_all
from bench.marts import dbt_build
from bench.stats import REPEAT_UNDER_SECONDS, summary

HISTORIES = {1: (2024,), 5: (2020, 2021, 2022, 2023, 2024)}


def prepare_history(ctx, home, years: tuple[int, ...]) -> float:
    """Load `years` into the lake at `home` and build + publish their marts; seconds spent."""
    from lake.catalog import open_catalog
    from lake.marts_publish import publish_marts
    from lake.settings import load_settings

    t0 = time.perf_counter()
    for year in years:
        ingest_all(home, ctx.landing, year)
    dbt_build(ctx, home, list(years))
    activate(home, ctx.landing)
    settings = load_settings()
    publish_marts(open_catalog(settings), settings.duckdb_path, list(years), {"civic.run-id": "bench-history"})
    return time.perf_counter() - t0


def refresh_in_process(ctx, home, year: int) -> dict:
    """`run_refresh([year])` through Dagster in this process, on the lake at `home`."""
    from lake.settings import load_settings
    from orchestration.cli.refresh import run_refresh
    from orchestration.services.instance import prepare_dagster_home

    activate(home, ctx.landing)
    prepare_dagster_home(load_settings())
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):  # dbt's log lines
        outcome = run_refresh([year])
    took = time.perf_counter() - t0
    if not outcome.success:
        raise RuntimeError(f"refresh FY{year} failed: {'; '.join(outcome.failures)[:2000]}")
    return {"seconds": took}


def measure(ctx) -> dict:
    year = ctx.year
    ctx.ensure_landing_years(sorted({y for ys in HISTORIES.values() for y in ys}))
    homes: dict[int, object] = {}
    setup: dict[int, float] = {}
    for n, years in HISTORIES.items():
        homes[n] = fresh_dir(ctx.scratch / f"incremental-{n}y")
        ctx.log(f"    history of {n} year(s) FY{years[0]}..FY{years[-1]}: preparing (untimed)")
        setup[n] = prepare_history(ctx, homes[n], years)
    # The cases alternate (1y, 5y, 1y, 5y, ...) so both see the same background load.
    runs: dict[int, list[float]] = {n: [] for n in HISTORIES}
    for i in range(max(1, ctx.reps)):
        for n in HISTORIES:
            took = refresh_in_process(ctx, homes[n], year)["seconds"]
            runs[n].append(took)
            ctx.log(f"    refresh FY{year} on {n}y history run {i + 1}/{ctx.reps}: {took:.2f}s")
        if min(runs[n][-1] for n in HISTORIES) > REPEAT_UNDER_SECONDS:
            break
    cases = {
        f"{n}y": {"history_years": list(years), "setup_s": setup[n], "refresh_s": summary(runs[n])}
        for n, years in HISTORIES.items()
    }
    ctx.history_home = homes[max(HISTORIES)]
    if not ctx.keep:
        for home in homes.values():
            if home != ctx.history_home:
                fresh_dir(home)
    one, five = cases["1y"]["refresh_s"], cases["5y"]["refresh_s"]
    return {
        "fiscal_year": year,
        "cases": cases,
        "ratio_5y_to_1y": five["median"] / one["median"] if one["median"] else None,
        "ratio_5y_to_1y_of_minimums": five["min"] / one["min"] if one["min"] else None,
    }
