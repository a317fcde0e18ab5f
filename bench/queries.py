"""5. BI queries: p50 / p95 latency of five scorecard and unit-cost queries.

Through the `civic query` path: in process (`lake.marts_query.run_query`: sqlglot guard,
a fresh read-only locked-down DuckDB connection, fetch all rows), in process inside one
`marts_session` (the connection reused, as a BI session or a report would), and as the
CLI a BI script would call (`civic query SQL --format csv`, one process per query). The lake
is the one with the most fiscal years available in this run (the five-year history of
the incremental measurement, else the year the mart measurement built).
"""

from __future__ import annotations

import sys
import time

from bench.env import REPO, civic_env
from bench.stats import percentile, run_measured, summary

QUERIES = {
    "service_kpis_year": (
        "select service_id, service_name, transactions, cost_per_transaction, digital_take_up, "
        "completion_rate, satisfaction_top2_pct, mean_wait_minutes, share_within_wait_standard "
        "from marts.service_channel_kpis where fiscal_year = {year} and channel = 'all' "
        "order by cost_per_transaction desc"
    ),
    "channel_unit_costs": (
        "select service_id, channel, transactions, cost, cost_per_transaction, "
        "online_cost_advantage_vs_in_person, savings_if_moved_online "
        "from marts.unit_costs where fiscal_year = {year} order by service_id, channel"
    ),
    "scorecard_status": (
        "select perspective, status, count(*) as measures from marts.scorecard "
        "where fiscal_year = {year} group by perspective, status order by perspective, status"
    ),
    "scorecard_missed": (
        "select service_id, service_name, measure, actual, target, score from marts.scorecard "
        "where fiscal_year = {year} and status = 'missed' order by score, service_id, measure"
    ),
    "cost_trend": (
        "select fiscal_year, sum(cost) / nullif(sum(transactions), 0) as cost_per_transaction, "
        "avg(digital_take_up) as mean_take_up, avg(mean_wait_minutes) as mean_wait_minutes "
        "from marts.service_channel_kpis where channel = 'all' group by fiscal_year order by fiscal_year"
    ),
}
WARMUP = 2


def _pcts(samples: list[float]) -> dict:
    return {
        "n": len(samples),
        "p50_ms": percentile(samples, 50) * 1000 if samples else None,
        "p95_ms": percentile(samples, 95) * 1000 if samples else None,
        "max_ms": max(samples) * 1000 if samples else None,
    }


def measure(ctx) -> dict:
    from lake.marts_query import marts_session, run_query

    home = ctx.history_home or ctx.ensure_marts()
    env = civic_env(home, ctx.landing)
    duckdb_path = home / "lakehouse.duckdb"
    in_process: dict[str, dict] = {}
    in_session: dict[str, dict] = {}
    cli: dict[str, dict] = {}
    pooled_in, pooled_session, pooled_cli = [], [], []
    errors: dict[str, str] = {}
    for name, template in QUERIES.items():
        sql = template.format(year=ctx.year)
        try:
            rows = len(run_query(duckdb_path, sql).rows)
        except Exception as err:  # a mart another change renamed: report, do not stop the bench
            errors[name] = f"{type(err).__name__}: {str(err).splitlines()[0]}"
            continue
        for _ in range(WARMUP - 1):
            run_query(duckdb_path, sql)
        samples = []
        for _ in range(ctx.bi_samples):
            t0 = time.perf_counter()
            run_query(duckdb_path, sql)
            samples.append(time.perf_counter() - t0)
        in_process[name] = {"rows": rows, **_pcts(samples)}
        pooled_in += samples
        with marts_session(duckdb_path):
            run_query(duckdb_path, sql)
            samples = []
            for _ in range(ctx.bi_samples):
                t0 = time.perf_counter()
                run_query(duckdb_path, sql)
                samples.append(time.perf_counter() - t0)
        in_session[name] = _pcts(samples)
        pooled_session += samples
        cli_samples = []
        for _ in range(ctx.cli_samples):
            res = run_measured(
                [sys.executable, "-m", "orchestration.cli", "query", sql, "--format", "csv"], env, str(REPO)
            )
            if res["returncode"] != 0:
                errors[name] = f"CLI exit {res['returncode']}: {res['output'].strip().splitlines()[-1:]}"
                break
            cli_samples.append(res["seconds"])
        cli[name] = _pcts(cli_samples)
        pooled_cli += cli_samples
    worst_p95 = max((q["p95_ms"] for q in in_process.values()), default=None)
    ctx.log(f"    BI in process: worst p95 {worst_p95 and round(worst_p95, 1)} ms; errors: {errors or 'none'}")
    return {
        "lake_years": "history" if ctx.history_home else "single year",
        "queries": {name: QUERIES[name].format(year=ctx.year) for name in QUERIES},
        "in_process": in_process,
        "in_process_all": _pcts(pooled_in),
        "in_process_worst_p95_ms": worst_p95,
        "in_session": in_session,
        "in_session_all": _pcts(pooled_session),
        "cli": cli,
        "cli_all": _pcts(pooled_cli),
        "cli_s": summary(pooled_cli),
        "errors": errors,
    }
