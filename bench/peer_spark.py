"""6. Peer: the same `service_channel_kpis` computation in PySpark, local mode.

PySpark is not a project dependency. The bench starts this module in a child process as
`uv run --with pyspark python -m bench.peer_spark SPEC OUT`, so it is installed for that
run only (from the package registry; nothing is downloaded at run time). Skipped, with
the reason in the results, where `java`, `uv` or pyspark is absent.

In the child: a local[N] session (N = cores), one temporary view per raw table over the
same Parquet data files the DuckDB floor reads, and the floor's query in Spark SQL
(bench/floor_sql.py), run `reps` times. Session start (JVM) is reported apart from the
query; the parent adds the child's wall time and peak memory.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path

from bench.env import REPO
from bench.floor_sql import RAW_TABLES, data_files, kpis_sql
from bench.stats import run_measured, summary

PYSPARK = "pyspark>=3.5"
TIMEOUT_S = 3600


def skip_reason() -> str | None:
    if shutil.which("java") is None:
        return "java is not on PATH"
    if shutil.which("uv") is None:
        return "uv is not on PATH (needed for `uv run --with pyspark`)"
    return None


def measure(ctx) -> dict:
    from bench.env import activate, civic_env
    from lake.catalog import open_catalog
    from lake.settings import load_settings

    reason = skip_reason()
    if reason:
        return {"skipped": reason}
    home = ctx.ensure_lake()
    activate(home, ctx.landing)
    files = data_files(open_catalog(load_settings()), ctx.year)
    work = ctx.scratch / "spark"
    work.mkdir(parents=True, exist_ok=True)
    spec = work / "spec.json"
    out = work / "result.json"
    out.unlink(missing_ok=True)
    spec.write_text(json.dumps({"year": ctx.year, "files": files, "reps": max(ctx.reps, 1), "work": str(work)}))
    python = [shutil.which("uv"), "run", "--quiet", "--with", PYSPARK, "python"]
    cmd = [*python, "-m", "bench.peer_spark", str(spec), str(out)]
    env = civic_env(home, ctx.landing)
    # Warm up: the first `uv run --with pyspark` may build and cache the package; not timed.
    warm = run_measured([*python, "-c", "import pyspark"], env, str(REPO), timeout=TIMEOUT_S)
    if warm["returncode"] != 0:
        return {"skipped": "pyspark could not be installed: " + warm["output"].strip()[-300:]}
    res = run_measured(cmd, env, str(REPO), timeout=TIMEOUT_S)
    if res["returncode"] != 0 or not out.exists():
        return {"failed": res["output"].strip()[-1500:]}
    child = json.loads(out.read_text())
    query = summary(child["query_s"])
    from bench.marts import compare_rows, floor_query

    check = compare_rows(floor_query(open_catalog(load_settings()), ctx.year)[1], child["result"])
    return {
        "pyspark": child["pyspark"],
        "java": child["java"],
        "master": child["master"],
        "rows": child["rows"],
        "same_rows_as_duckdb_floor": check,
        "process_wall_s": res["seconds"],
        "process_peak_rss_bytes": res["peak_rss_bytes"],
        "session_start_s": child["session_start_s"],
        "query_s": query,
        "first_query_s": child["query_s"][0],
        # what a user of the peer pays for one mart: start a session, run the query once
        "session_plus_first_query_s": child["session_start_s"] + child["query_s"][0],
    }


def _spark_main(spec_path: str, out_path: str) -> None:  # pragma: no cover - runs under pyspark only
    import pyspark
    from pyspark.sql import SparkSession

    spec = json.loads(Path(spec_path).read_text())
    work = Path(spec["work"])
    cores = os.cpu_count() or 1
    t0 = time.perf_counter()
    spark = (
        SparkSession.builder.master(f"local[{cores}]")
        .appName("civic-bench-peer")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.memory", os.environ.get("BENCH_SPARK_DRIVER_MEMORY", "3g"))
        .config("spark.sql.shuffle.partitions", str(max(2, cores * 2)))
        .config("spark.sql.warehouse.dir", str(work / "warehouse"))
        .config("spark.local.dir", str(work / "tmp"))
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    session_s = time.perf_counter() - t0
    for name in RAW_TABLES:
        paths = spec["files"][name]
        spark.read.option("mergeSchema", "true").parquet(*paths).createOrReplaceTempView(name)
    sql = kpis_sql(spec["year"], "spark")
    times, result = [], []
    for _ in range(spec["reps"]):
        t = time.perf_counter()
        result = spark.sql(sql).collect()
        times.append(time.perf_counter() - t)
    java = spark.sparkContext._jvm.java.lang.System.getProperty("java.version")
    spark.stop()
    Path(out_path).write_text(
        json.dumps(
            {
                "pyspark": pyspark.__version__,
                "java": java,
                "master": f"local[{cores}]",
                "session_start_s": session_s,
                "query_s": times,
                "rows": len(result),
                "result": [r.asDict() for r in result],
            },
            default=float,
        )
    )


if __name__ == "__main__":  # pragma: no cover
    _spark_main(sys.argv[1], sys.argv[2])
