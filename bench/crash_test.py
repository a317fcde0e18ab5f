"""Crash test: `civic refresh` killed with SIGKILL at random moments of its stages, run
again, and compared with a clean reference, table by table and fiscal year by fiscal year.

    uv run python -m bench.crash_test --trials 30 --years 2024:2025 --size 0.02 \\
        --publish bench/CRASH_RESULTS.md

One demo landing zone is generated; a reference lake is refreshed from it once, cleanly.
Each trial then starts `civic refresh` on a trial lake, kills its process group (as
systemd or Kubernetes kill a job) at a random moment of one stage, runs the refresh again
(once, with a time limit: a re-run that fails or hangs is a *manual repair*), and compares:
every raw table, the quarantine, the load ledger (the newest load per table, year and
feed, and that its `loaded` count is what the table holds), every mart in DuckDB and in
Iceberg. Trials go round the stages; the trial lake carries over from one trial to the
next (a refresh killed on a lake that already holds the years) and starts empty every
`--fresh-every` trials (a first refresh killed). At the end `civic maintenance
--older-than 0` removes the orphan files the kills left, and they are counted again.

Stages and where a kill lands (timings from the reference run):
  startup  before the first raw load (imports, Dagster instance, recovery)
  raw      during a raw load (reading, contracts, staging)
  commit   in the last part of a load that has rows (its Iceberg commits)
  dbt      during the dbt build of the marts (DuckDB writes)
  publish  after dbt, while the marts are copied to Iceberg
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import json
import os
import random
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

STAGES = ("startup", "raw", "commit", "dbt", "publish")
LOADING = re.compile(r"raw\.(\w+) FY(\d+): loading")
RECEIVED = re.compile(r"raw\.(\w+) FY(\d+): received ([\d,]+), .*\(([\d.]+)s\)")
# columns that name a load, a run or a moment: they differ between two correct lakes
VOLATILE = {
    "_load_id",
    "load_id",
    "snapshot_id",
    "quarantine_snapshot_id",
    "started_at",
    "finished_at",
    "seconds",
    "run_id",
    "code_version",
    # the ledger's hash chain: the position of a load in this lake's history (a trial's
    # killed loads are entries too) and the data files it registered, not its data
    "seq",
    "prev_hash",
    "entry_hash",
    "data_files",
}
LEDGER = "raw.loads"


# --- running the refresh ----------------------------------------------------------------


def civic() -> str:
    return str(Path(sys.executable).with_name("civic"))


# One pseudonymisation key for every lake of a run (the demo's respondents are personal
# data): the reference and each trial then hold the same pseudonyms.
PSEUDONYM_KEY = os.environ.get("CIVIC_PSEUDONYM_KEY") or secrets.token_hex(32)


def lake_env(home: Path, landing: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CIVIC_", "DAGSTER_"))}
    env |= {"CIVIC_HOME": str(home), "CIVIC_LANDING": str(landing), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    env["CIVIC_PSEUDONYM_KEY"] = PSEUDONYM_KEY
    return env


class Refresh:
    """One `civic refresh` in a process group of its own, its output lines timestamped."""

    def __init__(self, home: Path, landing: Path, years: str):
        self.started = time.monotonic()
        self.lines: list[tuple[float, str]] = []
        self.changed = threading.Condition()
        self.proc = subprocess.Popen(
            [civic(), "refresh", "--years", years],
            env=lake_env(home, landing),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self.changed:
                self.lines.append((time.monotonic() - self.started, line.rstrip("\n")))
                self.changed.notify_all()
        with self.changed:
            self.changed.notify_all()

    def wait_for(self, pattern: re.Pattern[str], nth: int = 1, timeout: float = 600) -> float | None:
        """Seconds since start at which the nth line matching `pattern` came; None if the
        process ended first."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                hits = [t for t, line in self.lines if pattern.search(line)]
                if len(hits) >= nth:
                    return hits[nth - 1]
                if self.proc.poll() is not None and not self._reader.is_alive():
                    return None
                if time.monotonic() > deadline:
                    return None
                self.changed.wait(0.2)

    def kill(self) -> bool:
        """SIGKILL the whole process group; False if the refresh had already ended."""
        if self.proc.poll() is not None:
            return False
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        self._reader.join(timeout=5)
        return True

    def finish(self, timeout: float) -> int | None:
        """Exit code, or None when it did not end within `timeout` (then it is killed)."""
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None
        self._reader.join(timeout=5)
        return code

    def text(self) -> str:
        return "\n".join(line for _, line in self.lines)


@dataclass
class Timings:
    """Where the stages fall in a clean refresh (seconds from its start)."""

    first_load: float
    loads: list[tuple[float, float, int]]  # (start, duration, rows received)
    dbt: tuple[float, float]  # start, duration
    publish: tuple[float, float]
    total: float


def timings_of(lines: list[tuple[float, str]]) -> Timings:
    starts = [t for t, line in lines if LOADING.search(line)]
    loads = []
    for line, start in zip([x for _, x in lines if RECEIVED.search(x)], starts, strict=False):
        m = RECEIVED.search(line)
        assert m
        loads.append((start, float(m.group(4)), int(m.group(3).replace(",", ""))))
    dbt_start = next(t for t, line in lines if "dbt build for" in line)
    dbt_end = next(t for t, line in lines if line.startswith("Done. PASS="))
    published = next(t for t, line in lines if "mart(s) to Iceberg" in line)
    return Timings(starts[0], loads, (dbt_start, dbt_end - dbt_start), (dbt_end, published - dbt_end), lines[-1][0])


def kill_at(refresh: Refresh, stage: str, timings: Timings, rng: random.Random) -> tuple[bool, str]:
    """Kill `refresh` at a random moment of `stage`; (killed, where)."""
    if stage == "startup":
        delay = rng.uniform(0.2, 0.9 * timings.first_load)
        time.sleep(delay)
        return refresh.kill(), f"{delay:.1f} s after start"
    if stage in ("raw", "commit"):
        candidates = [(i, load) for i, load in enumerate(timings.loads) if stage == "raw" or load[2] > 0]
        i, (_, duration, _) = rng.choice(candidates)
        share = rng.uniform(0.0, 0.6) if stage == "raw" else rng.uniform(0.6, 1.0)
        if refresh.wait_for(LOADING, nth=i + 1) is None:
            return False, "ended before the load"
        time.sleep(duration * share)
        return refresh.kill(), f"load {i + 1} at {share:.0%} of its {duration:.1f} s"
    start_line = re.compile("dbt build for") if stage == "dbt" else re.compile(r"^Done\. PASS=")
    window = timings.dbt[1] if stage == "dbt" else timings.publish[1]
    if refresh.wait_for(start_line) is None:
        return False, f"ended before {stage}"
    delay = rng.uniform(0.0, 0.8 * window)  # stages vary from run to run: stay inside
    time.sleep(delay)
    return refresh.kill(), f"{delay:.1f} s into {stage} (of {window:.1f} s)"


# --- reading a lake ----------------------------------------------------------------------


def _canon(value):
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, dict):
        return {k: _canon(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_canon(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    return value


def _fingerprints(rows: Iterable[dict]) -> dict[object, collections.Counter]:
    """Per fiscal year, a multiset of rows (volatile columns left out)."""
    by_year: dict[object, collections.Counter] = collections.defaultdict(collections.Counter)
    for row in rows:
        year = row.get("fiscal_year", row.get("plan_year"))
        stable = {k: _canon(v) for k, v in row.items() if k not in VOLATILE}
        by_year[year][json.dumps(stable, sort_keys=True, default=str)] += 1
    return by_year


def read_lake(
    home: Path, landing: Path, env: dict[str, str] | None = None
) -> dict[str, dict[object, collections.Counter]]:
    """Every table of the lake (Iceberg and the DuckDB marts) as fingerprints per year
    (`env`: the lake's settings, by default the embedded profile under `home`)."""
    import duckdb

    from lake.catalog import open_catalog
    from lake.maintenance import all_tables
    from lake.settings import load_settings

    settings = load_settings(env or lake_env(home, landing))
    catalog = open_catalog(settings)
    tables: dict[str, dict[object, collections.Counter]] = {}
    ledger_rows: list[dict] = []
    for table in all_tables(catalog):
        name = ".".join(table.name()[-2:])
        rows = table.scan().to_arrow().to_pylist()
        if name == LEDGER:
            ledger_rows = rows
            continue
        tables[f"iceberg:{name}"] = _fingerprints(rows)
    tables["ledger:newest"] = _fingerprints(_newest_loads(ledger_rows))
    if settings.duckdb_path.exists():
        with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
            names = con.execute("select table_name from information_schema.tables where table_schema = 'marts'")
            for (name,) in names.fetchall():
                rel = con.execute(f'select * from marts."{name}"')
                cols = [d[0] for d in rel.description]
                tables[f"duckdb:marts.{name}"] = _fingerprints(dict(zip(cols, r, strict=True)) for r in rel.fetchall())
    return tables


def _newest_loads(rows: list[dict]) -> list[dict]:
    """The newest ledger row per (table, fiscal year, feed): what the lake holds now."""
    newest: dict[tuple, dict] = {}
    for row in sorted(rows, key=lambda r: r["finished_at"]):
        newest[(row["table_name"], row["fiscal_year"], row["source"])] = row
    return [{k: v for k, v in r.items() if k != "files"} for r in newest.values()]


@dataclass
class Diff:
    partial: int = 0  # rows the reference does not have
    duplicated: int = 0  # extra copies of rows the reference has
    lost: int = 0  # rows of the reference missing
    where: list[str] = field(default_factory=list)


def compare(reference: dict, trial: dict) -> Diff:
    diff = Diff()
    for name in sorted(set(reference) | set(trial)):
        ref_years, got_years = reference.get(name, {}), trial.get(name, {})
        for year in sorted(set(ref_years) | set(got_years), key=str):
            ref, got = ref_years.get(year, collections.Counter()), got_years.get(year, collections.Counter())
            partial = sum(n for row, n in got.items() if row not in ref)
            duplicated = sum(n - ref[row] for row, n in got.items() if row in ref and n > ref[row])
            lost = sum(n - got.get(row, 0) for row, n in ref.items() if got.get(row, 0) < n)
            if partial or duplicated or lost:
                diff.where.append(f"{name} FY{year}: +{partial} partial, +{duplicated} dup, -{lost} lost")
            diff.partial += partial
            diff.duplicated += duplicated
            diff.lost += lost
    return diff


def ledger_mismatches(home: Path, landing: Path) -> list[str]:
    """Newest ledger rows whose `loaded` count differs from the rows the table holds."""
    from lake.catalog import open_catalog
    from lake.commit import partition_filter
    from lake.settings import load_settings

    catalog = open_catalog(load_settings(lake_env(home, landing)))
    if not catalog.table_exists(LEDGER):
        return []
    wrong = []
    for row in _newest_loads(catalog.load_table(LEDGER).scan().to_arrow().to_pylist()):
        if not catalog.table_exists(row["table_name"]):
            if row["loaded"]:
                wrong.append(f"{row['table_name']} missing")
            continue
        year = row["fiscal_year"]
        held = catalog.load_table(row["table_name"]).scan(row_filter=partition_filter(year, _source=row["source"]))
        n = held.to_arrow().num_rows
        if n != row["loaded"]:
            wrong.append(f"{row['table_name']} FY{year} {row['source']}: ledger {row['loaded']}, table {n}")
    return wrong


def marts_readable(home: Path) -> bool | None:
    """Whether the DuckDB file of the marts opens and lists its marts (None: no file yet)."""
    import duckdb

    path = home / "lakehouse.duckdb"
    if not path.exists():
        return None
    try:
        with duckdb.connect(str(path), read_only=True) as con:
            con.execute("select count(*) from information_schema.tables where table_schema = 'marts'").fetchall()
        return True
    except duckdb.Error:
        return False


def runs_in_flight(home: Path) -> int:
    """Runs of the trial's Dagster instance still STARTING, STARTED or CANCELING."""
    import dagster as dg

    from orchestration.services.stale_runs import IN_FLIGHT

    with dg.DagsterInstance.from_config(str(home / "dagster")) as instance:
        return instance.get_runs_count(filters=dg.RunsFilter(statuses=IN_FLIGHT))


def orphans_of(home: Path, landing: Path) -> collections.Counter:
    from lake.catalog import open_catalog
    from lake.dbt_source import arrow_filesystem
    from lake.maintenance import find_orphans
    from lake.settings import load_settings

    settings = load_settings(lake_env(home, landing))
    found = find_orphans(
        open_catalog(settings),
        arrow_filesystem(settings, settings.warehouse),
        settings.work_dir,
        dt.datetime.now(dt.UTC),
    )
    return collections.Counter(o.kind for o in found)


# --- the trials --------------------------------------------------------------------------


@dataclass
class Trial:
    number: int
    stage: str
    where: str
    killed: bool
    marts_readable: bool | None = None  # the DuckDB file right after the kill
    rerun_code: int | None = None
    rerun_seconds: float = 0.0
    recovered: int = 0  # dead runs the re-run cleaned up
    in_flight_after: int = 0
    diff: Diff = field(default_factory=Diff)
    ledger_wrong: list[str] = field(default_factory=list)
    orphans: collections.Counter = field(default_factory=collections.Counter)

    @property
    def manual_repair(self) -> bool:
        return self.rerun_code != 0 or self.in_flight_after > 0

    @property
    def clean(self) -> bool:
        d = self.diff
        return not (self.manual_repair or d.partial or d.duplicated or d.lost or self.ledger_wrong)


def run_trials(args: argparse.Namespace) -> dict:
    from ingestion.demo import generate_demo

    rng = random.Random(args.seed)
    root = Path(args.workdir or tempfile.mkdtemp(prefix="civic-crash-"))
    root.mkdir(parents=True, exist_ok=True)
    landing = root / "landing"
    first, _, last = args.years.partition(":")
    years = list(range(int(first), int(last or first) + 1))
    if not (landing / "demo_truths.json").exists():
        generate_demo(landing, years=years, size=args.size, seed=20240401)
    print(f"crash test in {root}: {args.trials} trial(s), FY{args.years}, size {args.size}", flush=True)

    ref_home = root / "reference"
    shutil.rmtree(ref_home, ignore_errors=True)
    clean = Refresh(ref_home, landing, args.years)
    if clean.finish(args.rerun_timeout) != 0:
        raise SystemExit(f"the clean reference refresh failed:\n{clean.text()[-3000:]}")
    timings = timings_of(clean.lines)
    reference = read_lake(ref_home, landing)
    print(
        f"reference: {timings.total:.0f} s (first load {timings.first_load:.1f} s, {len(timings.loads)} loads, "
        f"dbt {timings.dbt[1]:.1f} s, publish {timings.publish[1]:.1f} s)",
        flush=True,
    )

    home = root / "trial"
    trials: list[Trial] = []
    stages = [s.strip() for s in args.stages.split(",") if s.strip()]
    for number in range(1, args.trials + 1):
        if (number - 1) % args.fresh_every == 0:
            shutil.rmtree(home, ignore_errors=True)
        stage = stages[(number - 1) % len(stages)]
        for _attempt in range(3):  # a kill that comes too late (the refresh ended) is tried again
            victim = Refresh(home, landing, args.years)
            killed, where = kill_at(victim, stage, timings, rng)
            if killed:
                break
            victim.finish(args.rerun_timeout)
        trial = Trial(number, stage, where, killed, marts_readable(home))
        t0 = time.monotonic()
        rerun = Refresh(home, landing, args.years)
        trial.rerun_code = rerun.finish(args.rerun_timeout)
        trial.rerun_seconds = time.monotonic() - t0
        trial.recovered = sum("recovered run" in line for _, line in rerun.lines)
        if trial.rerun_code == 0:
            timings = timings_of(rerun.lines)  # a warm lake's timings aim the next kills better
        trial.in_flight_after = runs_in_flight(home)
        trial.diff = compare(reference, read_lake(home, landing))
        trial.ledger_wrong = ledger_mismatches(home, landing)
        trial.orphans = orphans_of(home, landing)
        trials.append(trial)
        status = "clean" if trial.clean else "NOT CLEAN"
        print(
            f"trial {number:2d} {stage:8s} killed={'yes' if killed else 'no '} ({where}); re-run "
            f"exit {trial.rerun_code} in {trial.rerun_seconds:.0f} s, recovered {trial.recovered} run(s): "
            f"{status}; orphans {dict(trial.orphans)}",
            flush=True,
        )
        for line in (trial.diff.where + trial.ledger_wrong)[:5]:
            print(f"    {line}", flush=True)
        if trial.manual_repair:
            print(f"    re-run output: {rerun.text()[-1500:]}", flush=True)
            shutil.rmtree(home, ignore_errors=True)  # the repair a person would make: start over

    orphans_before = orphans_of(home, landing)
    maint = subprocess.run(
        [civic(), "maintenance", "--older-than", "0"],
        env=lake_env(home, landing),
        capture_output=True,
        text=True,
        check=False,
    )
    orphans_after = orphans_of(home, landing)
    after_maintenance = read_lake(home, landing)
    results = {
        "trials": len(trials),
        "kills": sum(t.killed for t in trials),
        "kills_by_stage": dict(collections.Counter(t.stage for t in trials if t.killed)),
        "clean_resumes": sum(t.clean for t in trials),
        "partial_rows": sum(t.diff.partial for t in trials),
        "duplicated_rows": sum(t.diff.duplicated for t in trials),
        "lost_rows": sum(t.diff.lost for t in trials),
        "ledger_mismatches": sum(len(t.ledger_wrong) for t in trials),
        "manual_repairs": sum(t.manual_repair for t in trials),
        "marts_unreadable_after_kill": sum(t.marts_readable is False for t in trials),
        "dead_runs_recovered": sum(t.recovered for t in trials),
        "runs_left_in_flight": sum(t.in_flight_after for t in trials),
        "orphans_before_maintenance": dict(orphans_before),
        "orphans_after_maintenance": sum(orphans_after.values()),
        "maintenance": (maint.stdout.strip().splitlines() or [maint.stderr.strip()])[-1],
        "same_data_after_maintenance": not _any(compare(reference, after_maintenance)),
        "rerun_seconds_median": sorted(t.rerun_seconds for t in trials)[len(trials) // 2] if trials else 0,
        "reference_seconds": round(timings.total, 1),
        "years": args.years,
        "size": args.size,
        "seed": args.seed,
        "trial_lines": [
            f"{t.number} {t.stage} ({t.where}): {'clean' if t.clean else 'NOT CLEAN'}, "
            f"recovered {t.recovered}, re-run {t.rerun_seconds:.0f} s"
            for t in trials
        ],
    }
    if not args.keep and not args.workdir:
        shutil.rmtree(root, ignore_errors=True)
    return results


def _any(diff: Diff) -> bool:
    return bool(diff.partial or diff.duplicated or diff.lost)


def report(results: dict) -> str:
    keys = [
        ("trials", "trials"),
        ("kills", "kills (SIGKILL of the process group)"),
        ("kills_by_stage", "kills by stage"),
        ("clean_resumes", "clean resumes (the re-run alone restored the reference)"),
        ("partial_rows", "partial rows"),
        ("duplicated_rows", "duplicated rows"),
        ("lost_rows", "lost rows"),
        ("ledger_mismatches", "ledger rows that disagree with their table"),
        ("manual_repairs", "manual repairs needed (re-run failed, hung, or left a run in flight)"),
        ("marts_unreadable_after_kill", "DuckDB marts files unreadable right after a kill"),
        ("dead_runs_recovered", "dead runs the re-runs marked failed (slots freed)"),
        ("runs_left_in_flight", "runs left STARTED after the re-runs"),
        ("orphans_before_maintenance", "orphan files before `civic maintenance`, by kind"),
        ("orphans_after_maintenance", "orphan files after `civic maintenance --older-than 0`"),
        ("same_data_after_maintenance", "same data as the reference after maintenance"),
        ("rerun_seconds_median", "median re-run (s)"),
        ("reference_seconds", "clean refresh (s)"),
    ]
    lines = [
        "# Crash test results",
        "",
        f"`python -m bench.crash_test --trials {results['trials']} --years {results['years']} "
        f"--size {results['size']} --seed {results['seed']}` (bench/crash_test.py)",
        "",
        "| measure | value |",
        "|---|---|",
    ]
    for key, label in keys:
        value = results[key]
        if isinstance(value, float):
            value = f"{value:.1f}"
        lines.append(f"| {label} | {value} |")
    lines += ["", f"Maintenance: {results['maintenance']}", "", "Trials:", ""]
    lines += [f"- {line}" for line in results["trial_lines"]]
    return "\n".join(lines) + "\n"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m bench.crash_test", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--trials", type=int, default=30, help="kills (default 30)")
    p.add_argument(
        "--stages", default=",".join(STAGES), help=f"stages to kill in, in turn (default {','.join(STAGES)})"
    )
    p.add_argument("--years", default="2024:2025", help="fiscal years refreshed (default 2024:2025)")
    p.add_argument("--size", type=float, default=0.02, help="demo size factor (default 0.02)")
    p.add_argument("--seed", type=int, default=19, help="random seed of the kill moments (default 19)")
    p.add_argument("--fresh-every", type=int, default=10, help="start from an empty lake every N trials (default 10)")
    p.add_argument("--rerun-timeout", type=float, default=300, help="a re-run longer than this hangs (default 300 s)")
    p.add_argument("--workdir", help="keep everything here (default: a temporary folder, removed)")
    p.add_argument("--keep", action="store_true", help="keep the temporary folder")
    p.add_argument("--json", help="write the figures here as JSON")
    p.add_argument("--publish", help="write the Markdown report here (e.g. bench/CRASH_RESULTS.md)")
    args = p.parse_args(argv)
    unknown = set(args.stages.split(",")) - set(STAGES)
    if unknown:
        p.error(f"unknown stage(s) {', '.join(sorted(unknown))} (stages: {', '.join(STAGES)})")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    results = run_trials(args)
    text = report(results)
    print(text)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    if args.publish:
        Path(args.publish).write_text(text)
    bad = results["partial_rows"] + results["duplicated_rows"] + results["lost_rows"] + results["manual_repairs"]
    return 1 if bad or results["orphans_after_maintenance"] else 0


if __name__ == "__main__":
    sys.exit(main())
