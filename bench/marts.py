"""2. Mart build: `dbt build` of all marts for one fiscal year, against two references.

- dbt's fixed cost: the same `dbt build` (every model, seed, unit and data test, hooks) for
  a fiscal year with no rows (FY1999): what a build costs whatever the data.
- Floor: one hand-written DuckDB query (bench/floor_sql.py) computing
  `service_channel_kpis` straight from the raw Parquet data files of the year, which
  pyiceberg plans (planning is not timed). Its rows are checked against the mart dbt built.

dbt runs as the orchestrator runs it (`dbt build --exclude-resource-type unit_test --vars
'{"fiscal_years": [Y]}'`: dagster-dbt leaves the unit tests, which do not read the data, to
CI), in a subprocess, on the lake left by the ingestion measurement, with its own target
folder.
One untimed `dbt parse` first, so every timed build starts from a parsed project, and
(with more than one rep) one untimed empty build that creates the mart tables.
"""

from __future__ import annotations

import json
import time

import duckdb

from bench.env import DBT_DIR, civic_env, dbt_command
from bench.floor_sql import RAW_TABLES, data_files, kpis_sql
from bench.stats import repeat, run_measured, summary

EMPTY_YEAR = 1999
COMPARED = (
    "transactions",
    "cost_per_transaction",
    "digital_take_up",
    "completion_rate",
    "satisfaction_top2_pct",
    "mean_wait_minutes",
    "median_wait_minutes",
    "p90_wait_minutes",
)


def dbt_build(ctx, home, years: list[int]) -> dict:
    env = civic_env(home, ctx.landing)
    args = ["build", "--exclude-resource-type", "unit_test", "--vars", json.dumps({"fiscal_years": years})]
    cmd = dbt_command(args, ctx.scratch / "dbt")
    res = run_measured(cmd, env, cwd=str(DBT_DIR))
    if res["returncode"] != 0:
        tail = "\n".join(res["output"].splitlines()[-25:])
        raise RuntimeError(f"dbt build {years} failed (exit {res['returncode']}):\n{tail}")
    return res


def floor_query(catalog, year: int) -> tuple[float, list[dict]]:
    """Seconds and rows of the hand-written service_channel_kpis query (DuckDB)."""
    files = data_files(catalog, year)
    sql = kpis_sql(year, "duckdb")
    t0 = time.perf_counter()
    con = duckdb.connect()
    for name in RAW_TABLES:
        if files[name]:
            con.execute(f"create view {name} as select * from read_parquet({files[name]!r}, union_by_name = true)")
        else:
            con.register(name, catalog.load_table(f"raw.{name}").schema().as_arrow().empty_table())
    cur = con.execute(sql)
    cols = [d[0] for d in cur.description]
    rows = [dict(zip(cols, r)) for r in cur.fetchall()]
    took = time.perf_counter() - t0
    con.close()
    return took, rows


def compare_rows(reference: list[dict], other: list[dict]) -> dict:
    """Differences per (service, channel) in the compared columns (relative 1e-6)."""
    ref = {(r["service_id"], r["channel"]): r for r in reference}
    oth = {(r["service_id"], r["channel"]): r for r in other}
    diffs = []
    for key in sorted(set(ref) | set(oth), key=str):
        a_row, b_row = ref.get(key), oth.get(key)
        if a_row is None or b_row is None:
            diffs.append({"key": list(key), "problem": "only in reference" if b_row is None else "only in other"})
            continue
        for col in COMPARED:
            a, b = a_row[col], b_row[col]
            if a is None and b is None:
                continue
            if a is None or b is None or abs(float(a) - float(b)) > 1e-6 * max(1.0, abs(float(a))):
                diffs.append({"key": list(key), "column": col, "reference": a, "other": b})
    return {"reference_rows": len(ref), "other_rows": len(oth), "differences": len(diffs), "first": diffs[:5]}


def compare_with_mart(duckdb_path, year: int, floor_rows: list[dict]) -> dict:
    """Does the floor compute what dbt built?"""
    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        cur = con.execute(
            f"select service_id, channel, {', '.join(COMPARED)} from marts.service_channel_kpis where fiscal_year = ?",
            [year],
        )
        cols = [d[0] for d in cur.description]
        mart = [dict(zip(cols, r)) for r in cur.fetchall()]
    res = compare_rows(mart, floor_rows)
    return {
        "mart_rows": res["reference_rows"],
        "floor_rows": res["other_rows"],
        "differences": res["differences"],
        "first": res["first"],
    }


def measure(ctx) -> dict:
    from lake.catalog import open_catalog
    from lake.settings import load_settings

    home = ctx.ensure_lake()
    year = ctx.year
    env = civic_env(home, ctx.landing)
    t0 = time.perf_counter()
    parse = run_measured(dbt_command(["parse"], ctx.scratch / "dbt"), env, cwd=str(DBT_DIR))
    parse_s = time.perf_counter() - t0

    warmup = ctx.reps > 1
    if warmup:  # creates the mart tables, so every timed build is a steady-state rebuild
        dbt_build(ctx, home, [EMPTY_YEAR])
    fixed = repeat(lambda i: dbt_build(ctx, home, [EMPTY_YEAR]), ctx.reps, ctx.log, f"dbt build FY{EMPTY_YEAR} (empty)")
    builds = repeat(lambda i: dbt_build(ctx, home, [year]), ctx.reps, ctx.log, f"dbt build FY{year}")
    ctx.marts_home = home

    from bench.env import activate

    activate(home, ctx.landing)
    catalog = open_catalog(load_settings())
    floor_runs: list[dict] = []

    def one_floor(i: int) -> dict:
        took, rows = floor_query(catalog, year)
        floor_runs.append({"seconds": took, "rows": rows})
        return {"seconds": took}

    repeat(one_floor, max(ctx.reps, 3), ctx.log, "DuckDB floor query")
    check = compare_with_mart(load_settings().duckdb_path, year, floor_runs[-1]["rows"])

    build_s = summary([r["seconds"] for r in builds])
    fixed_s = summary([r["seconds"] for r in fixed])
    floor_s = summary([r["seconds"] for r in floor_runs])
    ctx.mart_floor_s = floor_s["median"]
    limit = 2 * floor_s["median"] + fixed_s["median"]
    return {
        "fiscal_year": year,
        "dbt_parse_s": parse_s,
        "dbt_parse_ok": parse["returncode"] == 0,
        "dbt_warmup_build": warmup,
        "dbt_build_s": build_s,
        "dbt_build_peak_rss_bytes": summary([r["peak_rss_bytes"] for r in builds]),
        "dbt_fixed_cost_s": fixed_s,
        "floor_query_s": floor_s,
        "floor_matches_mart": check,
        "data_dependent_s": build_s["median"] - fixed_s["median"],
        "ratio_to_floor": build_s["median"] / floor_s["median"] if floor_s["median"] else None,
        "ratio_data_part_to_floor": (build_s["median"] - fixed_s["median"]) / floor_s["median"]
        if floor_s["median"]
        else None,
        "target_limit_s": limit,
    }
