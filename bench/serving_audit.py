"""What logging the BI role's reads (lake/serving_audit.py) costs per query.

`python -m bench.serving_audit [--rows 200000] [--queries 300]`

On the local PostgreSQL (127.0.0.1:5432, as postgres), in a serving database and BI
role made and dropped here by `setup_serving`: two copies of one table of `--rows`
rows with an index on `service_id`, `marts.logged` (with the logging policy) and
`bench.plain` (none). One BI session runs `--queries` index lookups of one row on each,
alternating, after a first query that opens the session's dblink connection. Prints
the median and p90 per query of each, the difference, and the first query's time, with
durable log commits (the default) and with fast ones (CIVIC_BI_AUDIT_COMMIT=fast).
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid

import psycopg

from lake.serving_audit import ensure_policies
from lake.serving_setup import BiRole, setup_serving

ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"


def _admin(statement: str) -> None:
    with psycopg.connect(ADMIN, autocommit=True) as con:
        con.execute(statement)


def measure(rows: int, queries: int, durable: bool = True) -> dict[str, float]:
    tag = uuid.uuid4().hex[:8]
    database, role, password = f"civic_bench_audit_{tag}", f"civic_bi_bench_{tag}", f"pw-{tag}"
    uri = f"postgresql://postgres@127.0.0.1:5432/{database}"
    try:
        setup_serving(uri, BiRole(role, password, audit_durable=durable))
        with psycopg.connect(uri, autocommit=True) as db:
            db.execute("create schema bench")
            db.execute(f'grant usage on schema bench to "{role}"')
            for table in ("marts.logged", "bench.plain"):
                db.execute(
                    f"create table {table} as select (2020 + i % 6)::int as fiscal_year, "
                    f"'SVC-' || i as service_id, i * 1.5 as cost from generate_series(1, {int(rows)}) i"
                )
                db.execute(f"create index on {table} (service_id)")
                db.execute(f'grant select on {table} to "{role}"')
                db.execute(f"analyze {table}")
            with db.cursor() as cur:
                ensure_policies(cur)
        bi = f"postgresql://{role}:{password}@127.0.0.1:5432/{database}"
        times: dict[str, list[float]] = {"bench.plain": [], "marts.logged": []}
        with psycopg.connect(bi, autocommit=True) as con:
            started = time.perf_counter()
            con.execute("select * from marts.logged where service_id = 'SVC-1'").fetchall()
            first = (time.perf_counter() - started) * 1000
            for i in range(queries):
                for table, spent in times.items():
                    started = time.perf_counter()
                    con.execute(f"select * from {table} where service_id = %s", [f"SVC-{i + 2}"]).fetchall()
                    spent.append((time.perf_counter() - started) * 1000)
        with psycopg.connect(uri) as db:
            (logged,) = db.execute("select count(*) from audit.bi_reads").fetchone() or (0,)
    finally:
        _admin(f"select pg_terminate_backend(pid) from pg_stat_activity where datname = '{database}'")
        _admin(f'drop database if exists "{database}"')
        _admin(f'drop role if exists "{role}"')
    plain, audited = times["bench.plain"], times["marts.logged"]
    return {
        "plain_median_ms": statistics.median(plain),
        "plain_p90_ms": statistics.quantiles(plain, n=10)[-1],
        "logged_median_ms": statistics.median(audited),
        "logged_p90_ms": statistics.quantiles(audited, n=10)[-1],
        "first_query_ms": first,
        "log_rows": float(logged),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args(argv)
    for durable in (True, False):
        _report(args, durable, measure(args.rows, args.queries, durable))
    return 0


def _report(args, durable: bool, m: dict[str, float]) -> None:
    print(
        f"{'durable' if durable else 'fast'} log commits: index lookup of one row, {args.queries} queries each: without the policy median "
        f"{m['plain_median_ms']:.3f} ms (p90 {m['plain_p90_ms']:.3f}), logged median {m['logged_median_ms']:.3f} ms "
        f"(p90 {m['logged_p90_ms']:.3f}): +{m['logged_median_ms'] - m['plain_median_ms']:.3f} ms per query; "
        f"a session's first logged query {m['first_query_ms']:.1f} ms; {int(m['log_rows'])} log rows written"
    )


if __name__ == "__main__":
    raise SystemExit(main())
