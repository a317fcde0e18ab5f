"""BI load on the serving database while a refresh replaces the same fiscal year.

`python -m bench.serving [--size 0.02] [--clients 20] [--publish bench/RESULTS.md]`

A scratch lake (embedded profile) with a serving database of its own on the local
PostgreSQL (127.0.0.1:5432, created and dropped here) is refreshed once for FY2025 from
demo landing data. Then `--clients` BI clients (one psycopg connection each, as the BI
role `civic serve setup` makes) run bench/queries.py's dashboard queries in a loop:

1. idle, for `--idle-seconds`: the floor (the same clients and queries, nothing writing);
2. while `civic refresh --years 2025` runs in another process on landing data of another
   seed, so that FY2025's rows change: latency, errors, and what each client saw.

Every loop of every client also runs one consistency probe: one statement (one snapshot)
giving, for FY2025 of three marts, the row count and a checksum of the rows (sum of
`hashtext(row::text)`). Before the refresh the probe has one value (old), after it
another (new); a probe that saw anything else saw a mix of old and new rows.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import sqlglot

from bench.env import REPO, civic_env, code_state, fresh_dir, machine, versions
from bench.queries import QUERIES
from bench.stats import percentile

YEAR = 2025
PROBE_MARTS = ("scorecard", "service_channel_kpis", "unit_costs")
ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
SECTION_START, SECTION_END = "<!-- bench.serving: start -->", "<!-- bench.serving: end -->"


def postgres_sql(duckdb_sql: str) -> str:
    """A dashboard query as a BI tool on PostgreSQL would send it (sqlglot transpiles)."""
    return sqlglot.transpile(duckdb_sql, read="duckdb", write="postgres")[0]


def probe_sql(year: int) -> str:
    parts = []
    for mart in PROBE_MARTS:
        parts.append(f"(select count(*) from marts.{mart} where fiscal_year = {year})")
        parts.append(f"(select sum(hashtext(t::text)::bigint) from marts.{mart} t where fiscal_year = {year})")
    return "select " + ", ".join(parts)


class Client(threading.Thread):
    """One BI session: dashboard queries and the probe in a loop, until told to stop."""

    def __init__(self, uri: str, queries: dict[str, str], probe: str, stop: threading.Event, think: float):
        super().__init__(daemon=True)
        self.uri, self.queries, self.probe, self.stop, self.think = uri, queries, probe, stop, think
        self.samples: list[tuple[float, float, str]] = []  # (start, seconds, query)
        self.errors: list[str] = []
        self.probes: list[tuple[float, tuple]] = []

    def run(self) -> None:
        try:
            con = psycopg.connect(self.uri, autocommit=True)
        except psycopg.Error as err:
            self.errors.append(f"connect: {' '.join(str(err).split())}")
            return
        with con:
            while not self.stop.is_set():
                for name, sql in self.queries.items():
                    t0 = time.monotonic()
                    try:
                        con.execute(sql).fetchall()
                        self.samples.append((t0, time.monotonic() - t0, name))
                    except psycopg.Error as err:
                        self.errors.append(" ".join(str(err).split())[:200])
                t0 = time.monotonic()
                try:
                    self.probes.append((t0, tuple(con.execute(self.probe).fetchone() or ())))
                except psycopg.Error as err:
                    self.errors.append(" ".join(str(err).split())[:200])
                self.stop.wait(self.think)  # the person reading the dashboard


def _pcts(values: list[float]) -> dict:
    return {
        "n": len(values),
        "p50_ms": (percentile(values, 50) or 0) * 1000,
        "p95_ms": (percentile(values, 95) or 0) * 1000,
        "max_ms": max(values, default=0) * 1000,
    }


def _run_clients(
    uri: str, n: int, queries: dict[str, str], probe: str, think: float, during
) -> tuple[list[Client], float, float]:
    """Start n clients, call `during()` (returns when its work is done), stop them."""
    stop = threading.Event()
    clients = [Client(uri, queries, probe, stop, think) for _ in range(n)]
    for c in clients:
        c.start()
    time.sleep(0.5)  # every client connected and past its first queries
    started = time.monotonic()
    during()
    ended = time.monotonic()
    time.sleep(0.5)
    stop.set()
    for c in clients:
        c.join(timeout=60)
    return clients, started, ended


def _probe_now(uri: str, probe: str) -> tuple:
    with psycopg.connect(uri) as con:
        return tuple(con.execute(probe).fetchone() or ())


def measure(size: float, clients: int, idle_seconds: float, think_ms: float, out: Path, log=print) -> dict:
    from ingestion.demo import generate_demo
    from lake.serving_setup import BiRole, setup_serving

    scratch = fresh_dir(out / f"scratch-serving-{size}")
    home = scratch / "civic"
    landing_old, landing_new = scratch / "landing-old", scratch / "landing-new"
    generate_demo(landing_old, years=[YEAR], size=size, seed=20240401)
    generate_demo(landing_new, years=[YEAR], size=size, seed=20250401)
    tag = uuid.uuid4().hex[:8]
    database, role = f"civic_bench_serving_{tag}", f"civic_bi_bench_{tag}"
    uri = f"postgresql://postgres@127.0.0.1:5432/{database}"
    password = f"bench-{tag}"
    bi_uri = f"postgresql://{role}:{password}@127.0.0.1:5432/{database}"
    env_common = {"CIVIC_SERVING_URI": uri}
    try:
        setup_serving(uri, BiRole(role, password, statement_timeout="30s", connection_limit=clients + 5))
        log(f"  serving database {database}, BI role {role}")
        t0 = time.monotonic()
        first = subprocess.run(
            [sys.executable, "-m", "orchestration.cli", "refresh", "--years", str(YEAR)],
            env={**civic_env(home, landing_old), **env_common},
            cwd=REPO,
            capture_output=True,
            text=True,
        )
        if first.returncode != 0:
            raise RuntimeError(f"first refresh failed: {first.stdout[-2000:]}{first.stderr[-2000:]}")
        alone_seconds = time.monotonic() - t0
        log(f"  first refresh (old FY{YEAR}) in {alone_seconds:.1f}s")
        queries = {name: postgres_sql(t.format(year=YEAR)) for name, t in QUERIES.items()}
        probe = probe_sql(YEAR)
        old = _probe_now(uri, probe)

        idle, idle_start, idle_end = _run_clients(
            bi_uri, clients, queries, probe, think_ms / 1000, lambda: time.sleep(idle_seconds)
        )
        log(f"  idle floor: {sum(len(c.samples) for c in idle)} queries in {idle_end - idle_start:.1f}s")

        refresh: dict = {}

        def run_refresh() -> None:
            t = time.monotonic()
            proc = subprocess.run(
                [sys.executable, "-m", "orchestration.cli", "refresh", "--years", str(YEAR)],
                env={**civic_env(home, landing_new), **env_common},
                cwd=REPO,
                capture_output=True,
                text=True,
            )
            refresh.update(seconds=time.monotonic() - t, returncode=proc.returncode, output=proc.stdout[-1500:])

        busy, busy_start, busy_end = _run_clients(bi_uri, clients, queries, probe, think_ms / 1000, run_refresh)
        if refresh["returncode"] != 0:
            raise RuntimeError(f"the refresh under load failed: {refresh['output']}")
        new = _probe_now(uri, probe)
        log(f"  refresh under load in {refresh['seconds']:.1f}s; {sum(len(c.samples) for c in busy)} queries")
    finally:
        with psycopg.connect(ADMIN, autocommit=True) as admin:
            admin.execute("select pg_terminate_backend(pid) from pg_stat_activity where datname = %s", [database])
            admin.execute(f'drop database if exists "{database}"')
            admin.execute(f'drop role if exists "{role}"')
        shutil.rmtree(scratch, ignore_errors=True)

    def window(cs: list[Client], start: float, end: float) -> list[float]:
        return [s for c in cs for (t, s, _) in c.samples if start <= t <= end]

    seen = {"old": 0, "new": 0, "mixed": 0}
    switch_times = []
    for c in busy:
        saw_new = False
        for t, value in c.probes:
            kind = "old" if value == old else "new" if value == new else "mixed"
            seen[kind] += 1
            if kind == "new" and not saw_new:
                saw_new = True
                switch_times.append(t)
            if kind == "old" and saw_new:
                seen["old_after_new"] = seen.get("old_after_new", 0) + 1
    busy_samples = window(busy, busy_start, busy_end)
    idle_samples = window(idle, idle_start, idle_end)
    per_query = {
        name: _pcts([s for c in busy for (t, s, q) in c.samples if q == name and busy_start <= t <= busy_end])
        for name in queries
    }
    idle_p = _pcts(idle_samples)
    busy_p = _pcts(busy_samples)
    return {
        "size": size,
        "clients": clients,
        "think_ms": think_ms,
        "year": YEAR,
        "queries": queries,
        "probe": probe,
        "idle": {**idle_p, "seconds": idle_end - idle_start},
        "during_refresh": {**busy_p, "seconds": busy_end - busy_start},
        "ratio_p50": busy_p["p50_ms"] / idle_p["p50_ms"] if idle_p["p50_ms"] else None,
        "ratio_p95": busy_p["p95_ms"] / idle_p["p95_ms"] if idle_p["p95_ms"] else None,
        "per_query_during_refresh": per_query,
        "errors_idle": sorted({e for c in idle for e in c.errors}),
        "errors_during_refresh": [e for c in busy for e in c.errors],
        "probes": seen,
        "old_differs_from_new": old != new,
        "old_rows": [old[i] for i in range(0, len(old), 2)],
        "new_rows": [new[i] for i in range(0, len(new), 2)],
        "clients_that_saw_the_new_year": len(switch_times),
        "refresh_seconds": refresh["seconds"],
        "refresh_alone_seconds": alone_seconds,
        "refresh_output_tail": refresh["output"].splitlines()[-3:],
    }


def report(res: dict, meta: dict) -> str:
    d, i = res["during_refresh"], res["idle"]
    probes = res["probes"]
    lines = [
        SECTION_START,
        f"## Serving database under BI load during a refresh (`python -m bench.serving --size {res['size']}`)",
        "",
        f"- Date: {meta['date']}; code commit {meta['commit']}; {meta['cores']} cores; load average after "
        f"{meta['load']:.2f}; PostgreSQL {meta['postgres']}",
        f"- {res['clients']} BI clients (psycopg, the BI role, one connection each) loop over the five dashboard "
        f"queries of bench/queries.py (transpiled to PostgreSQL by sqlglot) and a consistency probe, "
        f"{res['think_ms']:.0f} ms apart (think time), "
        f"while `civic refresh --years {res['year']}` replaces FY{res['year']} (new landing data of another seed) "
        f"and publishes it to the serving database.",
        f"- Floor: the same clients and queries for {i['seconds']:.1f} s with nothing writing.",
        "",
        "| figure | idle (floor) | during the refresh | ratio |",
        "|---|---:|---:|---:|",
        f"| queries run | {i['n']:,} | {d['n']:,} | |",
        f"| p50 latency, ms | {i['p50_ms']:.1f} | {d['p50_ms']:.1f} | {res['ratio_p50']:.2f} |",
        f"| p95 latency, ms | {i['p95_ms']:.1f} | {d['p95_ms']:.1f} | {res['ratio_p95']:.2f} |",
        f"| max latency, ms | {i['max_ms']:.1f} | {d['max_ms']:.1f} | |",
        f"| errors | {len(res['errors_idle'])} | {len(res['errors_during_refresh'])} | |",
        "",
        f"Refresh under load: {res['refresh_seconds']:.1f} s (the same refresh on an empty lake, nobody "
        f"querying: {res['refresh_alone_seconds']:.1f} s). FY{res['year']} rows of "
        f"{', '.join(PROBE_MARTS)}: {res['old_rows']} before, {res['new_rows']} after "
        f"(old and new checksums differ: {'yes' if res['old_differs_from_new'] else 'NO, the check is void'}).",
        "",
        "| consistency probes during the refresh | count |",
        "|---|---:|",
        f"| saw the old FY{res['year']} (all three marts) | {probes['old']:,} |",
        f"| saw the new FY{res['year']} (all three marts) | {probes['new']:,} |",
        f"| saw a mix of old and new rows | **{probes['mixed']}** |",
        f"| saw the old year again after the new one | {probes.get('old_after_new', 0)} |",
        f"| clients that saw the switch | {res['clients_that_saw_the_new_year']} of {res['clients']} |",
        "",
        "| query (during the refresh) | n | p50 ms | p95 ms |",
        "|---|---:|---:|---:|",
    ]
    for name, q in res["per_query_during_refresh"].items():
        lines.append(f"| {name} | {q['n']} | {q['p50_ms']:.1f} | {q['p95_ms']:.1f} |")
    lines += [SECTION_END, ""]
    return "\n".join(lines)


def publish(path: Path, section: str) -> None:
    """Write the section into `path`, replacing an earlier one, keeping the rest."""
    text = path.read_text() if path.exists() else ""
    if SECTION_START in text and SECTION_END in text:
        before, rest = text.split(SECTION_START, 1)
        after = rest.split(SECTION_END, 1)[1].lstrip("\n")
        text = before + section + ("\n" + after if after else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text)


def keep_section(path: Path, report: str) -> str:
    """`report` (the main harness's) with the serving section `path` already holds, so
    publishing one benchmark never drops the other's figures."""
    text = path.read_text() if path.exists() else ""
    if SECTION_START not in text or SECTION_END not in text:
        return report
    section = SECTION_START + text.split(SECTION_START, 1)[1].split(SECTION_END, 1)[0] + SECTION_END + "\n"
    return report.rstrip("\n") + "\n\n" + section


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.serving", description=__doc__.split("\n\n")[0])
    p.add_argument("--size", type=float, default=0.02, help="demo data size of FY2025 (default 0.02, a smoke run)")
    p.add_argument("--clients", type=int, default=20, help="concurrent BI clients (default 20)")
    p.add_argument("--idle-seconds", type=float, default=5.0, help="length of the idle floor (default 5)")
    p.add_argument("--think-ms", type=float, default=100.0, help="pause of a client between dashboard loads (100)")
    p.add_argument("--out", type=Path, default=REPO / "bench" / "out", help="output folder (default bench/out)")
    p.add_argument("--publish", type=Path, help="write the report section into this file (e.g. bench/RESULTS.md)")
    args = p.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    res = measure(args.size, args.clients, args.idle_seconds, args.think_ms, args.out)
    import os

    with psycopg.connect(ADMIN) as con:
        pg_version = str(con.execute("show server_version").fetchone()[0])  # type: ignore[index]
    meta = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": code_state()["commit"],
        "cores": machine()["logical_cores"],
        "load": os.getloadavg()[0],
        "postgres": pg_version,
    }
    (args.out / f"results-serving-{args.size}.json").write_text(
        json.dumps({**res, "meta": meta, "versions": versions()}, indent=2)
    )
    section = report(res, meta)
    (args.out / f"results-serving-{args.size}.md").write_text(section)
    print(section)
    if args.publish:
        publish(args.publish, section)
    ok = not res["errors_during_refresh"] and res["probes"]["mixed"] == 0 and res["old_differs_from_new"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
