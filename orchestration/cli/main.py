"""`civic`: the command line of the civic lakehouse (see README.md)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path

from lake.settings import Settings, load_settings
from orchestration.cli.errors import (
    YEARS_HELP,
    UsageError,
    check_fit,
    did_you_mean,
    no_lake,
    one_line,
    query_error,
    report,
    years_option,
)

DEMO_YEARS = "2021:2025"
FORMATS = ["table", "csv", "json"]
FORMAT_HELP = "output format: table (default), csv or json"


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("civic-lakehouse")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"


def _local_time(text: str):
    import datetime as dt

    try:
        return dt.datetime.fromisoformat(text).replace(tzinfo=None)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date and time: {text!r} (e.g. 2018-12-11T10:00)") from None


def _setup(args) -> None:
    if getattr(args, "home", None):
        os.environ["CIVIC_HOME"] = str(Path(args.home).resolve())
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(message)s"))
    progress = logging.getLogger("civic.progress")
    progress.handlers[:] = [handler]
    progress.setLevel(logging.INFO)
    progress.propagate = False
    # pyiceberg notes every all-null column of a registered file; not news for a user
    logging.getLogger("pyiceberg.io.pyarrow").setLevel(logging.ERROR)


def _dagster_home() -> None:
    """Only the commands that run or write the lake make a Dagster home (once their
    arguments are checked); the read commands leave CIVIC_HOME as they found it."""
    from orchestration.services.instance import prepare_dagster_home

    prepare_dagster_home(load_settings())


def _refresh(years: list[int]) -> bool:
    from lake.locks import exclusive
    from orchestration.cli.refresh import run_refresh
    from orchestration.load.feeds import FeedsConfigError, read_feeds

    settings = load_settings()
    try:  # a broken feeds.yml is refused before anything runs
        configured = read_feeds(settings.feeds_file)
    except FeedsConfigError as err:
        print(f"refresh refused: {one_line(err)}", file=sys.stderr)
        return False
    from orchestration.cli.plan import check_scenarios

    ok, message = check_scenarios()  # and so is a broken plans/scenarios.yml
    if not ok:
        print(f"refresh refused: {one_line(message)}", file=sys.stderr)
        return False
    print(f"Refreshing FY{years[0]}" + (f"..FY{years[-1]}" if len(years) > 1 else "") + " through Dagster")
    if configured:
        print(f"  with {len(configured)} feed(s) of {settings.feeds_file}: {', '.join(s.name for s in configured)}")
    t0 = time.perf_counter()
    if settings.catalog_is_sqlite:
        # The embedded SQLite catalog takes one writer: refreshes queue one at a time.
        with exclusive(settings.home / "locks" / "refresh.lock", "another refresh of this CIVIC_HOME", print):
            outcome = run_refresh(years)
    else:
        outcome = run_refresh(years)
    took = time.perf_counter() - t0
    if outcome.retried_steps:
        print(f"Retried after transient errors: {', '.join(outcome.retried_steps)}")
    if outcome.success:
        print(f"Refresh done in {took:.1f}s (runs: {', '.join(r[:8] for r in outcome.run_ids)})")
    else:
        print(f"Refresh FAILED after {took:.1f}s:", file=sys.stderr)
        for f in outcome.failures:
            print(f"  - {f}", file=sys.stderr)
    return outcome.success


def cmd_demo(args) -> int:
    from ingestion.demo import generate_demo
    from orchestration.cli.summary import print_summary

    settings = load_settings()
    years = years_option(args.years, settings)
    _dagster_home()
    landing = Path(settings.landing)
    if not (landing / "demo_truths.json").exists():
        print(f"Generating demo landing data (size {args.size}) in {landing}")
        t0 = time.perf_counter()
        generate_demo(landing, years=years, size=args.size, seed=args.seed)
        print(f"  generated in {time.perf_counter() - t0:.1f}s")
    else:
        print(f"Using the demo landing data already in {landing}")
    if not _refresh(years):
        return 1
    print_summary(settings.duckdb_path, max(years))
    print(f"Scorecard site and open data: {settings.home / 'report' / 'index.html'}")
    return 0


def cmd_refresh(args) -> int:
    years = years_option(args.years, load_settings())
    _dagster_home()
    return 0 if _refresh(years) else 1


def cmd_query(args) -> int:
    import duckdb

    from lake.marts_query import connect_read_only, run_query
    from lake.sql_guard import QueryRefused
    from orchestration.cli.display import render

    settings = load_settings()
    if not settings.duckdb_path.exists():
        raise no_lake(settings.duckdb_path)
    try:
        result = run_query(settings.duckdb_path, args.sql)
    except QueryRefused as err:
        print(f"query refused: {one_line(err)}", file=sys.stderr)
        return 2
    except duckdb.Error as err:  # a misspelled table or column: DuckDB's hint, on one line

        def marts_tables() -> set[str]:
            with connect_read_only(settings.duckdb_path) as con:
                sql = "select table_name from information_schema.tables where table_schema = 'marts'"
                return {name for (name,) in con.execute(sql).fetchall()}

        raise UsageError(query_error(str(err), marts_tables)) from None
    print(render(result.columns, result.rows, args.format))
    return 0


def _lake_exists(settings: Settings) -> bool:
    """Whether there is a catalog to read (an embedded one is a file; a served one is
    taken to exist)."""
    if settings.catalog_is_sqlite and settings.catalog_uri.startswith("sqlite:///"):
        return Path(settings.catalog_uri.removeprefix("sqlite:///")).exists()
    return True


def cmd_loads(args) -> int:
    from lake.catalog import open_catalog
    from lake.load_ledger import LOADS_TABLE, read_loads
    from orchestration.cli.display import render

    settings = load_settings()
    if not _lake_exists(settings):
        raise no_lake(settings.home)
    catalog = open_catalog(settings)
    table_name = args.table and f"raw.{args.table.removeprefix('raw.')}"
    if table_name:
        from contracts.entities import ENTITIES

        tables = ({".".join(t) for t in catalog.list_tables("raw")} | {f"raw.{e}" for e in ENTITIES}) - {LOADS_TABLE}
        if table_name not in tables:
            raise UsageError(did_you_mean(table_name, tables, "table"))
    table = read_loads(catalog, table_name, args.year)
    cols = ["load_id", "table_name", "fiscal_year", "received", "loaded", "quarantined", "snapshot_id", "finished_at"]
    rows = list(zip(*(table[c].to_pylist() for c in cols))) if table.num_rows else []
    if args.limit:
        rows = rows[: args.limit]
    print(render(cols, rows, args.format))
    return 0


def cmd_feeds(args) -> int:
    from orchestration.cli.display import render
    from orchestration.load.feeds import FeedsConfigError, read_feeds

    path = load_settings().feeds_file
    try:
        configured = read_feeds(path)
    except FeedsConfigError as err:
        print(one_line(err), file=sys.stderr)
        return 1
    if not configured:
        print(f"no feeds configured ({path} {'lists none' if path and path.exists() else 'does not exist'})")
        return 0
    rows = [(s.name, s.kind, s.location, ", ".join(s.entities)) for s in configured]
    print(render(["name", "kind", "location", "entities"], rows, args.format))
    return 0


def cmd_ui(args) -> int:
    import subprocess

    _dagster_home()
    cmd = [
        str(Path(sys.executable).with_name("dagster")),
        "dev",
        "-m",
        "orchestration.definitions",
        "--host",
        "127.0.0.1",
        "--port",
        str(args.port),
    ]
    print(f"Dagster UI on http://127.0.0.1:{args.port} (DAGSTER_HOME={os.environ['DAGSTER_HOME']})")
    return subprocess.call(cmd)


def cmd_ingest(args) -> int:
    from contracts.errors import ContractError
    from contracts.fiscal_year import outside_note
    from ingestion.errors import SourceFileError
    from ingestion.feeds import FEED_KINDS
    from lake.catalog import open_catalog
    from orchestration.cli.display import render
    from orchestration.load.flow import ingest_feed

    if args.kind not in FEED_KINDS:
        raise UsageError(did_you_mean(args.kind, FEED_KINDS, "kind"))
    _dagster_home()
    settings = load_settings()
    try:
        records = ingest_feed(
            settings,
            open_catalog(settings),
            args.kind,
            args.location,
            name=args.name,
            observed_at=args.observed_at,
        )
    except (SourceFileError, ContractError) as err:
        print(f"ingest failed: {one_line(err)}", file=sys.stderr)
        return 1
    cols = ["table_name", "fiscal_year", "received", "loaded", "quarantined", "snapshot_id"]
    rows = [tuple(getattr(r, c) for c in cols) for r in records]
    print(render(cols, rows))
    received, loaded, quarantined = (sum(r[i] for r in rows) for i in (2, 3, 4))
    print(f"received {received:,} = loaded {loaded:,} + quarantined {quarantined:,}")
    if note := outside_note((r.fiscal_year for r in records), settings.fiscal_years):
        print(note)
    return check_fit(args.kind, args.location, received, loaded, quarantined, FEED_KINDS)


def cmd_plan(args) -> int:
    from orchestration.cli.plan import PlanUnavailable, check_scenarios, plan_command

    if args.check:
        ok, message = check_scenarios()
        print(message, file=sys.stdout if ok else sys.stderr)
        return 0 if ok else 2
    settings = load_settings()
    if not settings.duckdb_path.exists():
        raise no_lake(settings.duckdb_path)
    try:
        if args.format == "table":
            print(plan_command(settings.duckdb_path, args.scenario))
        else:
            return _plan_export(settings.duckdb_path, args)
    except PlanUnavailable as err:
        print(one_line(err), file=sys.stderr)
        return 1
    except ValueError as err:  # an unknown scenario
        print(one_line(err), file=sys.stderr)
        return 2
    return 0


def _plan_export(duckdb_path: Path, args) -> int:
    from orchestration.cli.plan import read_full_plan
    from orchestration.cli.plan_export import plan_csv, plan_json, plan_workbook

    if args.format == "xlsx" and not args.out:
        print("plan refused: a workbook is a file: add --out FILE.xlsx", file=sys.stderr)
        return 2
    plan = read_full_plan(duckdb_path)
    if args.format == "xlsx":
        sheets = plan_workbook(plan, Path(args.out), args.scenario)
        print(f"Wrote {args.out} (sheets: {', '.join(sheets)})")
        return 0
    text = plan_csv(plan, args.scenario) if args.format == "csv" else plan_json(plan, args.scenario)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"Wrote {args.out}")
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0


def cmd_dictionary(args) -> int:
    import csv
    import dataclasses
    import io
    import json
    import subprocess

    from lake.marts_dictionary import ManifestError, dictionary_markdown, dictionary_rows, read_marts_dictionary
    from orchestration.defs.dbt.project import ensure_manifest

    try:
        marts = read_marts_dictionary(ensure_manifest())
    except (ManifestError, subprocess.CalledProcessError) as err:
        print(f"dictionary unavailable: {one_line(err)} (run `dbt parse` in dbt_project to see why)", file=sys.stderr)
        return 1
    if args.format == "json":
        print(json.dumps([dataclasses.asdict(m) for m in marts], indent=2))
    elif args.format == "csv":
        rows = dictionary_rows(marts)
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(rows[0]) if rows else ["mart"], lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        print(out.getvalue(), end="")
    else:
        print(dictionary_markdown(marts), end="")
    return 0


def cmd_report(args) -> int:
    from orchestration.defs.report.assets import publish_site, site_dir
    from report.explanations import ExplanationsError

    settings = load_settings()
    if not settings.duckdb_path.exists():
        print("report refused: no marts yet: run `civic demo` or `civic refresh` first", file=sys.stderr)
        return 1
    out = Path(args.out) if args.out else site_dir(settings)
    try:
        pages = publish_site(settings, out)
    except ExplanationsError as err:
        print(f"report refused: {one_line(err)}", file=sys.stderr)
        return 1
    print(f"Wrote {len(pages)} page(s) and the open-data package to {out} (open {out / 'index.html'})")
    return 0


def cmd_storage(args) -> int:
    from orchestration.services import storage

    settings = load_settings()
    if args.action == "up":
        try:
            state = storage.up(settings, args.port)
        except RuntimeError as err:
            print(one_line(err), file=sys.stderr)
            return 1
        print(f"SeaweedFS S3 on {state.endpoint} (pid {state.pid}, data in {state.data_dir})")
        print("Point the lake at it with:")
        print(storage.exports(settings, state))
    elif args.action == "down":
        print("stopped" if storage.down(settings) else "not running")
    else:
        state = storage.status(settings)
        print(f"running on {state.endpoint} (pid {state.pid})" if state.running else "not running")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="civic", description="civic lakehouse: public-service performance and cost per fiscal year."
    )
    p.add_argument("--home", help="state directory (default: $CIVIC_HOME or ./.civic)")
    p.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = p.add_subparsers(dest="command", required=True)

    d = sub.add_parser("demo", help="generate demo landing data (if absent) and refresh FY2021-2025")
    d.add_argument("--years", default=DEMO_YEARS, help=f"{YEARS_HELP} (default {DEMO_YEARS})")
    d.add_argument("--size", type=float, default=1.0, help="size factor of the demo data (default 1)")
    d.add_argument("--seed", type=int, default=20240401, help="random seed of the demo data (default 20240401)")
    d.set_defaults(func=cmd_demo)

    r = sub.add_parser("refresh", help="refresh fiscal years from the landing location and the feeds of feeds.yml")
    r.add_argument("--years", required=True, help=YEARS_HELP)
    r.set_defaults(func=cmd_refresh)

    q = sub.add_parser("query", help="read-only SQL over the marts")
    q.add_argument("sql", help='one SELECT over marts.<table> (e.g. "select * from marts.kpis")')
    q.add_argument("--format", choices=FORMATS, default="table", help=FORMAT_HELP)
    q.set_defaults(func=cmd_query)

    lo = sub.add_parser("loads", help="the load ledger")
    lo.add_argument("--table", help="only the loads of this raw table (e.g. service_requests)")
    lo.add_argument("--year", type=int, help="only the loads of this fiscal year")
    lo.add_argument("--limit", type=int, default=0, help="show at most this many loads, newest first (default all)")
    lo.add_argument("--format", choices=FORMATS, default="table", help=FORMAT_HELP)
    lo.set_defaults(func=cmd_loads)

    pl = sub.add_parser("plan", help="next fiscal year's budget plan, scenario against baseline")
    pl.add_argument("--scenario", action="append", help="scenario of plans/scenarios.yml (repeatable; default all)")
    pl.add_argument(
        "--check",
        action="store_true",
        help="only validate the scenarios file ($CIVIC_PLAN_SCENARIOS or plans/scenarios.yml)",
    )
    pl.add_argument(
        "--format",
        choices=["table", "csv", "json", "xlsx"],
        default="table",
        help="table (default), csv or json (every column of marts.budget_plan), or xlsx (one sheet per scenario)",
    )
    pl.add_argument("--out", help="write to this file instead of the screen (required for xlsx)")
    pl.set_defaults(func=cmd_plan)

    i = sub.add_parser(
        "ingest", help="load a published feed (file, directory or open311 http(s) endpoint) into the lake"
    )
    i.add_argument(
        "--kind",
        "--source",  # its former name, still accepted
        dest="kind",
        required=True,
        help="feed kind, e.g. open311, nyc311, gc_service_inventory, fiscal_data_package (README.md lists all)",
    )
    i.add_argument(
        "--observed-at",
        type=_local_time,
        help="local time a snapshot feed without a time of its own was "
        "fetched (ca_dmv_xml, ma_rmv_xml), e.g. 2018-12-11T10:00",
    )
    i.add_argument("--name", help="name of the feed (default KIND:location name)")
    i.add_argument("location", help="file, directory or http(s) endpoint of the feed")
    i.set_defaults(func=cmd_ingest)

    fe = sub.add_parser(
        "feeds", aliases=["sources"], help="the feeds a refresh loads ($CIVIC_FEEDS or $CIVIC_HOME/feeds.yml)"
    )
    fe.add_argument("--format", choices=FORMATS, default="table", help=FORMAT_HELP)
    fe.set_defaults(func=cmd_feeds)

    dc = sub.add_parser("dictionary", help="the data dictionary of the marts (from the dbt docs)")
    dc.add_argument("--format", choices=["md", "csv", "json"], default="md", help="md (default), csv or json")
    dc.set_defaults(func=cmd_dictionary)

    rp = sub.add_parser("report", help="write the public scorecard site and open data from the marts")
    rp.add_argument("--out", help="directory of the site (default $CIVIC_HOME/report)")
    rp.set_defaults(func=cmd_report)

    s = sub.add_parser("storage", help="start/stop the local S3-compatible server (SeaweedFS)")
    s.add_argument("action", choices=["up", "down", "status"], help="start, stop or show the server")
    s.add_argument("--port", type=int, help="S3 port (default $CIVIC_S3_PORT or 8333)")
    s.set_defaults(func=cmd_storage)

    u = sub.add_parser("ui", help="start the Dagster UI on 127.0.0.1")
    u.add_argument("--port", type=int, default=3000, help="port of the UI (default 3000)")
    u.set_defaults(func=cmd_ui)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    def run() -> int:
        _setup(args)
        return args.func(args)

    return report(args.command, run)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
