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
    report,
    years_option,
)

DEMO_YEARS = "2021:2025"
FORMATS = ["table", "csv", "json"]
FORMAT_HELP = "output format: table (default), csv or json"
SQL_DIALECTS = ["duckdb", "postgres", "tsql", "snowflake", "bigquery", "spark", "trino"]
# The feed kinds of ingestion.feeds.FEED_KINDS, named here so that `civic --help` need not
# import every reader (a test keeps the two the same)
FEED_KIND_NAMES = (
    "au_dta",
    "boston_cityscore",
    "ca_dmv_csv",
    "ca_dmv_xml",
    "fiscal_data_package",
    "gc_service_inventory",
    "ma_rmv_xml",
    "nyc311",
    "nyc_mmr",
    "open311",
    "sandiego_survey",
    "uk_opg",
    "us_dap",
)


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


def _refresh(years: list[int], job: str = "annual_refresh") -> bool:
    from lake.locks import exclusive
    from orchestration.cli.refresh import expected_steps, run_refresh
    from orchestration.load.feeds import FeedsConfigError, read_feeds
    from orchestration.progress import progress, steps

    settings = load_settings()
    try:  # a broken feeds.yml is refused before anything runs
        configured = read_feeds(settings.feeds_file)
    except FeedsConfigError as err:
        print(f"civic refresh: {one_line(err)}", file=sys.stderr)
        return False
    from orchestration.cli.plan import check_scenarios

    ok, message = check_scenarios()  # and so is a broken plans/scenarios.yml
    if not ok:
        print(f"civic refresh: {one_line(message)}", file=sys.stderr)
        return False
    from contracts.register import RegisterError, read_register

    try:  # and a data-use register that is malformed or disagrees with the contracts
        read_register()
    except RegisterError as err:
        print(f"civic refresh: {one_line(err)}", file=sys.stderr)
        return False
    from ingestion.errors import SourceFileError
    from ingestion.pseudonymise import PseudonymKeyError
    from orchestration.load.flow import ServiceIdCollision, check_feed_catalogues, check_refresh_keys

    try:  # and one that would load personal columns without a pseudonymisation key
        check_refresh_keys(settings, years)
    except PseudonymKeyError as err:
        print(f"civic refresh: {one_line(err)}", file=sys.stderr)
        return False
    if job == "annual_refresh":
        try:  # and two feeds whose catalogues share service ids without a namespace
            check_feed_catalogues(settings)
        except (ServiceIdCollision, SourceFileError) as err:
            print(f"civic refresh: {one_line(err)}", file=sys.stderr)
            return False
    span = f"FY{years[0]}" + (f"..FY{years[-1]}" if len(years) > 1 else "")
    if job == "plan_rebuild":
        print(f"Rebuilding the budget plan and the models it reads for {span} (no raw table is loaded)")
    else:
        print(f"Refreshing {span} through Dagster")
    if configured and job == "annual_refresh":
        print(f"  with {len(configured)} feed(s) of {settings.feeds_file}: {', '.join(s.name for s in configured)}")
    t0 = time.perf_counter()
    # on a terminal: the bar, with the run's own output (dbt's lines, Dagster's log) in a file
    log = settings.home / "logs" / f"{job}-{time.strftime('%Y%m%dT%H%M%S')}.log"
    with steps(expected_steps(years, bool(settings.serving_uri), raw=job == "annual_refresh"), log=log):
        if settings.catalog_is_sqlite:
            # The embedded SQLite catalog takes one writer: refreshes queue one at a time.
            with exclusive(settings.home / "locks" / "refresh.lock", "another refresh of this CIVIC_HOME", progress):
                outcome = run_refresh(years, job_name=job)
        else:
            outcome = run_refresh(years, job_name=job)
    took = time.perf_counter() - t0
    if outcome.retried_steps:
        print(f"Retried after transient errors: {', '.join(outcome.retried_steps)}")
    if outcome.success:
        done = "Plan rebuilt" if job == "plan_rebuild" else "Refresh done"
        print(f"{done} in {took:.1f}s (runs: {', '.join(r[:8] for r in outcome.run_ids)})")
        if outcome.backfill_id:
            print(f"  recorded as Dagster backfill {outcome.backfill_id} (the backfills page of `civic ui`)")
        if log.exists():
            print(f"  the run's output (dbt, Dagster): {log}")
        _print_chain_head(settings)
    else:
        print(f"Refresh FAILED after {took:.1f}s:", file=sys.stderr)
        for f in outcome.failures:
            print(f"  - {f}", file=sys.stderr)
        if log.exists():
            print(f"  the run's output: {log}", file=sys.stderr)
        if outcome.backfill_id:
            print(f"  Dagster backfill {outcome.backfill_id} is marked completed with failures", file=sys.stderr)
    return outcome.success


def cmd_demo(args) -> int:
    from ingestion.demo import generate_demo
    from orchestration.cli.summary import print_summary

    settings = load_settings()
    years = years_option(args.years, settings)
    _dagster_home()
    landing = Path(settings.landing)
    _demo_key(settings)
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


def _demo_key(settings: Settings) -> None:
    """The demo's citizens are pseudonymised like any: with no key configured it makes a
    random one under CIVIC_HOME (0600), once, and says so."""
    from ingestion.pseudonymise import create_key_file
    from orchestration.load.flow import keyring_of

    if keyring_of(settings) is None and settings.pseudonym_key_file is not None:
        create_key_file(settings.pseudonym_key_file)
        print(
            f"Created a random pseudonymisation key in {settings.pseudonym_key_file} (owner-only); "
            "keep it with the lake (set CIVIC_PSEUDONYM_KEY or CIVIC_PSEUDONYM_KEY_FILE for real data)"
        )


def _allow_shrink(args) -> None:
    """`--allow-shrink`: the loads of this command may replace a year with far fewer rows
    (lake/shrink_guard.py); said through the environment, so Dagster's runs see it too."""
    if getattr(args, "allow_shrink", False):
        os.environ["CIVIC_ALLOW_SHRINK"] = "1"


def cmd_refresh(args) -> int:
    _allow_shrink(args)
    years = years_option(args.years, load_settings())
    _dagster_home()
    return 0 if _refresh(years) else 1


def cmd_query(args) -> int:
    """Read-only SQL over the marts-only file (docs/querying.md)."""
    from lake.access_log import logged_query
    from lake.marts_query import QueryFailed, QueryLimitHit
    from lake.sql_guard import QueryRefused
    from orchestration.cli.display import render

    settings = load_settings()
    if not settings.marts_path.exists():
        raise no_lake(settings.marts_path)
    try:
        result = logged_query(settings, args.sql, args.dialect)  # lake/access_log.py
    except QueryRefused as err:
        print(f"civic query: {one_line(err)}", file=sys.stderr)
        return 2
    except QueryLimitHit as err:
        print(f"query stopped: {one_line(err)}", file=sys.stderr)
        return 1
    except QueryFailed as err:  # a misspelled table or column: one line, naming only marts
        raise UsageError(one_line(err)) from None
    print(render(result.columns, result.rows, args.format))
    if result.truncated:
        print(
            f"result cut at {len(result.rows):,} rows, the row limit (CIVIC_QUERY_MAX_ROWS): filter or aggregate more",
            file=sys.stderr,
        )
    return 0


def cmd_sql(args) -> int:
    """Print a mart query rewritten for another engine."""
    from lake.sql_guard import QueryRefused
    from lake.sql_helpers import transpile_mart_query

    try:
        text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text()
    except OSError as err:
        raise UsageError(f"cannot read {args.file}: {err.strerror}") from None
    try:
        print(transpile_mart_query(text, args.to, read=args.dialect))
    except QueryRefused as err:
        print(f"civic query: {one_line(err)}", file=sys.stderr)
        return 2
    return 0


def _lake_exists(settings: Settings) -> bool:
    """Whether there is a catalog to read (an embedded one is a file; a served one is
    taken to exist)."""
    if settings.catalog_is_sqlite and settings.catalog_uri.startswith("sqlite:///"):
        return Path(settings.catalog_uri.removeprefix("sqlite:///")).exists()
    return True


def cmd_loads(args) -> int:
    from lake.catalog import open_catalog
    from lake.load_ledger import read_loads
    from orchestration.cli.display import render

    settings = load_settings()
    if not _lake_exists(settings):
        raise no_lake(settings.home)
    catalog = open_catalog(settings)
    table_name = args.table and _raw_table(catalog, args.table)
    table = read_loads(catalog, table_name, args.year)
    cols = [
        "load_id",
        "table_name",
        "fiscal_year",
        "feed",
        "received",
        "loaded",
        "quarantined",
        "snapshot_id",
        "finished_at",
    ]
    rows = list(zip(*(table[c].to_pylist() for c in cols))) if table.num_rows else []
    if args.limit:
        rows = rows[: args.limit]
    print(render(cols, rows, args.format))
    return 0


def _raw_table(catalog, name: str) -> str:
    """`raw.<name>` of `--table`, refused naming the raw tables when there is none."""
    from contracts.entities import ENTITIES
    from lake.load_ledger import LOADS_TABLE

    table_name = f"raw.{name.removeprefix('raw.')}"
    tables = ({".".join(t) for t in catalog.list_tables("raw")} | {f"raw.{e}" for e in ENTITIES}) - {LOADS_TABLE}
    if table_name not in tables:
        raise UsageError(did_you_mean(table_name, tables, "table"))
    return table_name


# CSV and JSON carry every column; a table leaves out the load and the file, the widest
QUARANTINE_COLUMNS = ["entity", "fiscal_year", "source", "rule", "column", "message", "row"]
QUARANTINE_ALL = ["load_id", "entity", "fiscal_year", "source", "source_file", "rule", "column", "message", "row"]


def cmd_quarantine(args) -> int:
    """The rejected rows and their reasons (quarantine.rejected_rows), read-only."""
    from lake.catalog import open_catalog
    from lake.quarantine import quarantine_rules, read_quarantine
    from orchestration.cli.display import render

    settings = load_settings()
    if not _lake_exists(settings):
        raise no_lake(settings.home)
    catalog = open_catalog(settings)
    entity = args.table and _raw_table(catalog, args.table).removeprefix("raw.")
    table = read_quarantine(catalog, entity, args.year, args.rule)
    if args.rule and not table.num_rows and args.rule not in (rules := quarantine_rules(catalog)):
        raise UsageError(did_you_mean(args.rule, rules, "rule"))
    cols = QUARANTINE_COLUMNS if args.format == "table" else QUARANTINE_ALL
    rows = list(zip(*(table[c].to_pylist() for c in cols))) if table.num_rows else []
    if args.limit:
        rows = rows[: args.limit]
    print(render(cols, rows, args.format))
    if args.limit and table.num_rows > args.limit:
        print(f"shown {args.limit:,} of {table.num_rows:,} rejected rows (--limit)", file=sys.stderr)
    return 0


def _print_chain_head(settings: Settings) -> None:
    """The load ledger's newest hash: kept, it proves later that history was not rewritten."""
    from lake.catalog import open_catalog
    from lake.load_ledger import ledger_head

    head = ledger_head(open_catalog(settings))
    if head and head[0]:
        print(f"Load ledger chain head: #{head[0]} {head[1]} (check it later with `civic verify --head`)")


def cmd_verify(args) -> int:
    from lake.catalog import open_catalog
    from lake.verify import verify_lake

    settings = load_settings()
    if not _lake_exists(settings):
        raise no_lake(settings.home)
    table = args.table and f"raw.{args.table.removeprefix('raw.')}"
    result = verify_lake(open_catalog(settings), table, args.year, args.head)
    scope = (table or "every table") + (f", FY{args.year}" if args.year else "")
    for problem in result.problems:
        print(f"ALTERED: {problem}")
    legacy = f" ({result.unchained} older entries carry no hash)" if result.unchained else ""
    head = f"; chain head #{result.head[0]} {result.head[1]}" if result.head else ""
    verdict = "FAILED" if result.problems else "OK"
    print(
        f"verify {verdict}: {result.entries} ledger entries{legacy}, {result.files} data files and "
        f"{result.snapshots} snapshots of {scope} checked; {len(result.problems)} problem(s){head}"
    )
    return 1 if result.problems else 0


def cmd_data_use(args) -> int:
    from contracts.register import RegisterError, read_register
    from lake.data_use import derive_data_use
    from orchestration.cli.display import render

    try:
        register = read_register()
    except RegisterError as err:
        print(one_line(err), file=sys.stderr)
        return 1
    models = Path(__file__).resolve().parents[2] / "dbt_project" / "models"
    cols = ["mart", "dataset", "personal_field", "protection", "purpose", "legal_basis", "readers"]
    rows = [tuple(getattr(u, c) for c in cols) for u in derive_data_use(models, register)]
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
    rows = [(s.name, s.kind, s.location, ", ".join(s.entities), s.service_id_prefix or "") for s in configured]
    print(render(["name", "kind", "location", "entities", "service_id_prefix"], rows, args.format))
    return 0


def cmd_ui(args) -> int:
    from orchestration.services.ui import run_ui

    _dagster_home()
    home = Path(os.environ["DAGSTER_HOME"])
    print(f"Dagster UI on http://127.0.0.1:{args.port} (DAGSTER_HOME={home}); Ctrl-C stops it")
    return run_ui(args.port, os.environ, cwd=home)


def cmd_ingest(args) -> int:
    from contracts.errors import ContractError
    from contracts.fiscal_year import outside_note
    from ingestion.errors import SourceFileError
    from ingestion.feeds import FEED_KINDS
    from lake.catalog import open_catalog
    from lake.shrink_guard import ShrinkRefused
    from orchestration.cli.display import render
    from orchestration.load.flow import ServiceIdCollision, ingest_feed

    if args.kind not in FEED_KINDS:
        raise UsageError(did_you_mean(args.kind, FEED_KINDS, "kind"))
    _allow_shrink(args)
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
            service_id_prefix=args.service_id_prefix,
        )
    except (SourceFileError, ContractError, ShrinkRefused, ServiceIdCollision) as err:
        print(f"civic ingest: {one_line(err)}", file=sys.stderr)
        return 1
    cols = ["table_name", "fiscal_year", "received", "loaded", "quarantined", "snapshot_id"]
    rows = [tuple(getattr(r, c) for c in cols) for r in records]
    print(render(cols, rows))
    received, loaded, quarantined = (sum(r[i] for r in rows) for i in (2, 3, 4))
    print(f"received {received:,} = loaded {loaded:,} + quarantined {quarantined:,}")
    if note := outside_note((r.fiscal_year for r in records), settings.fiscal_years):
        print(note)
    _record_ingest(settings, records)
    return check_fit(args.kind, args.location, received, loaded, quarantined, FEED_KINDS)


def _record_ingest(settings: Settings, records) -> None:
    """The loads as events of the raw assets in the Dagster UI (orchestration/defs/raw/events.py)."""
    import dagster as dg

    from orchestration.defs.raw.events import report_ingest

    with dg.DagsterInstance.get() as instance:
        report_ingest(instance, records, settings.calendar, settings.fiscal_years)


def cmd_plan(args) -> int:
    from orchestration.cli.plan import PlanUnavailable, check_scenarios, plan_command

    if args.check:
        ok, message = check_scenarios()
        print(message if ok else f"civic plan: {message}", file=sys.stdout if ok else sys.stderr)
        return 0 if ok else 2
    settings = load_settings()
    if not settings.duckdb_path.exists():
        raise no_lake(settings.duckdb_path)
    if args.rebuild:
        return _plan_rebuild(settings)
    if args.errors and args.format != "csv":  # the other formats carry the errors with the plan
        print(
            f"civic plan: --errors is for --format csv; the {args.format} output shows them after the plan",
            file=sys.stderr,
        )
        return 2
    try:
        if args.format == "table":
            print(plan_command(settings.duckdb_path, args.scenario))
        else:
            return _plan_export(settings.duckdb_path, args)
    except PlanUnavailable as err:
        print(f"civic plan: {one_line(err)}", file=sys.stderr)
        return 1
    except ValueError as err:  # an unknown scenario
        print(f"civic plan: {one_line(err)}", file=sys.stderr)
        return 2
    return 0


def _plan_rebuild(settings: Settings) -> int:
    """`civic plan --rebuild`: the plan of the fiscal years the marts hold, rebuilt from
    the lake as it is after a change of plans/scenarios.yml (the plan_rebuild job)."""
    from lake.marts_query import run_query

    found = run_query(settings.duckdb_path, "select distinct fiscal_year from marts.service_channel_kpis order by 1")
    years = [int(r[0]) for r in found.rows if r[0] is not None]
    if not years:
        raise no_lake(settings.duckdb_path)
    _dagster_home()
    if not _refresh(years, job="plan_rebuild"):
        return 1
    print("Run `civic plan` to see it.")
    return 0


def _plan_export(duckdb_path: Path, args) -> int:
    from orchestration.cli.plan import read_full_plan
    from orchestration.cli.plan_export import plan_csv, plan_json, plan_workbook

    if args.format == "xlsx" and not args.out:
        print("civic plan: a workbook is a file: add --out FILE.xlsx", file=sys.stderr)
        return 2
    plan = read_full_plan(duckdb_path)
    if args.format == "xlsx":
        sheets = plan_workbook(plan, Path(args.out), args.scenario)
        print(f"Wrote {args.out} (sheets: {', '.join(sheets)})")
        return 0
    if args.format == "csv":
        text = plan_csv(plan, args.scenario, errors=args.errors)
        if args.errors and not text:
            print(
                "civic plan: no errors to show: the last plan year has no adopted plan beside actuals "
                "(refresh a year, then the next: the first refresh's plan is set beside the second's actuals)",
                file=sys.stderr,
            )
            return 1
    else:
        text = plan_json(plan, args.scenario)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"Wrote {args.out}")
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0


def cmd_dictionary(args) -> int:
    import dataclasses
    import json
    import subprocess

    from lake.marts_dictionary import ManifestError, dictionary_markdown, dictionary_rows, read_marts_dictionary
    from orchestration.cli.display import render
    from orchestration.defs.dbt.project import ensure_manifest

    try:
        marts = read_marts_dictionary(ensure_manifest())
    except (ManifestError, subprocess.CalledProcessError) as err:
        print(f"dictionary unavailable: {one_line(err)} (run `dbt parse` in dbt_project to see why)", file=sys.stderr)
        return 1
    if args.format == "json":
        print(json.dumps([dataclasses.asdict(m) for m in marts], indent=2))
    elif args.format == "md":
        print(dictionary_markdown(marts), end="")
    else:
        rows = dictionary_rows(marts)
        cols = list(rows[0]) if rows else ["mart"]
        if args.format == "table":  # the grain is the mart's, said once per mart in md
            cols = [c for c in cols if c != "grain"]
        print(render(cols, [tuple(r[c] for c in cols) for r in rows], args.format))
    return 0


def _lake_databases(settings: Settings) -> dict[str, str]:
    """This lake's other PostgreSQL databases (the Iceberg catalog's, Dagster's) and the user
    each connects as, for `civic serve setup` to close them to PUBLIC."""
    from sqlalchemy.engine import make_url

    found: dict[str, str] = {}
    if settings.catalog_uri.startswith("postgresql"):
        url = make_url(settings.catalog_uri)
        if url.database:
            found[url.database] = url.username or os.environ.get("PGUSER", "")
    if os.environ.get("DAGSTER_PG_DB"):
        found[os.environ["DAGSTER_PG_DB"]] = os.environ.get("DAGSTER_PG_USERNAME", "")
    return found


def cmd_serve(args) -> int:
    from lake.marts_serving import ServingError
    from lake.serving_setup import BiRole, SetupError, setup_serving

    settings = load_settings()
    if not settings.serving_uri:
        raise UsageError("CIVIC_SERVING_URI is not set: export the serving database's URI (README, 'Serving')")
    try:
        if args.action == "setup":
            for line in setup_serving(settings.serving_uri, BiRole.from_env(), _lake_databases(settings)):
                print(line)
            return 0
        from lake.locks import marts_lock
        from lake.marts_dictionary import read_marts_dictionary
        from lake.marts_serving import publish_to_serving
        from orchestration.defs.dbt.project import ensure_manifest

        if not settings.duckdb_path.exists():
            raise no_lake(settings.duckdb_path)
        years = years_option(args.years, settings) if args.years else None
        if not years:
            raise UsageError("civic serve publish needs --years (e.g. --years 2025)")
        with marts_lock(settings, print):
            published = publish_to_serving(
                settings.serving_uri,
                settings.duckdb_path,
                years,
                read_marts_dictionary(ensure_manifest()),
                on_commit=lambda year: print(f"  {year} committed"),
            )
        print(f"published {sum(published.values()):,} rows of {len(published)} mart(s)")
        return 0
    except (SetupError, ServingError) as err:
        print(one_line(err), file=sys.stderr)
        return 1


def cmd_report(args) -> int:
    from orchestration.defs.report.assets import publish_site, site_dir
    from report.explanations import ExplanationsError

    settings = load_settings()
    if not settings.duckdb_path.exists():
        print("civic report: no marts yet: run `civic demo` or `civic refresh` first", file=sys.stderr)
        return 1
    out = Path(args.out) if args.out else site_dir(settings)
    try:
        pages = publish_site(settings, out)
    except ExplanationsError as err:
        print(f"civic report: {one_line(err)}", file=sys.stderr)
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


def cmd_maintenance(args) -> int:
    import datetime as dt

    from lake.catalog import open_catalog
    from lake.dbt_source import arrow_filesystem
    from lake.locks import refresh_lock
    from lake.maintenance import run_maintenance
    from orchestration.cli.display import render
    from orchestration.cli.maintenance import age_text, maintenance_bounds

    settings = load_settings()
    min_age = maintenance_bounds(settings, args.older_than)
    if not _lake_exists(settings):
        raise no_lake(settings.home)
    retention = dt.timedelta(days=settings.snapshot_retention_days)
    with refresh_lock(settings, print):  # no commit in flight while it runs (embedded)
        report_ = run_maintenance(
            open_catalog(settings),
            arrow_filesystem(settings, settings.warehouse),
            settings.work_dir,
            min_age,
            retention,
            dry_run=args.dry_run,
        )
    removed = {o.location for o in report_.removed}
    rows = [
        (o.kind, o.location, o.size, age_text(o.age), "removed" if o.location in removed else "kept")
        for o in report_.orphans
    ]
    if rows and args.list:
        print(render(["kind", "location", "bytes", "age", "action"], rows, args.format))
    by_kind: dict[str, int] = {}
    for o in report_.orphans:
        by_kind[o.kind] = by_kind.get(o.kind, 0) + 1
    kinds = ", ".join(f"{n} {k}" for k, n in sorted(by_kind.items()))
    if args.dry_run:
        print(f"{len(report_.orphans)} orphan(s) ({kinds or 'none'}); dry run: nothing removed or expired")
    else:
        print(f"{report_.summary(min_age)} ({kinds or 'none'}; snapshot retention {retention.days} d)")
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
    r.add_argument(
        "--allow-shrink",
        action="store_true",
        help="replace a fiscal year even with far fewer rows than its previous load (see CIVIC_SHRINK_GUARD)",
    )
    r.set_defaults(func=cmd_refresh)

    q = sub.add_parser("query", help="read-only SQL over the marts")
    q.add_argument("sql", help='one SELECT over marts.<table> (e.g. "select * from marts.kpis")')
    q.add_argument("--format", choices=FORMATS, default="table", help=FORMAT_HELP)
    q.add_argument("--dialect", choices=SQL_DIALECTS, default="duckdb", help="the SQL dialect the query is written in")
    q.set_defaults(func=cmd_query)

    sq = sub.add_parser("sql", help="print a mart query rewritten for another engine's SQL dialect")
    sq.add_argument("file", help="a file holding one SELECT over marts.<table>, or - for standard input")
    sq.add_argument("--to", required=True, choices=SQL_DIALECTS[1:], help="the dialect to write")
    sq.add_argument("--dialect", choices=SQL_DIALECTS, default="duckdb", help="the dialect the query is written in")
    sq.set_defaults(func=cmd_sql)

    lo = sub.add_parser("loads", help="the load ledger")
    lo.add_argument("--table", help="only the loads of this raw table (e.g. service_requests)")
    lo.add_argument("--year", type=int, help="only the loads of this fiscal year")
    lo.add_argument("--limit", type=int, default=0, help="show at most this many loads, newest first (default all)")
    lo.add_argument("--format", choices=FORMATS, default="table", help=FORMAT_HELP)
    lo.set_defaults(func=cmd_loads)

    qu = sub.add_parser("quarantine", help="the rows the contracts rejected, with their reasons")
    qu.add_argument("--table", help="only the rejected rows of this raw table (e.g. service_requests)")
    qu.add_argument("--year", type=int, help="only the rejected rows of this fiscal year")
    qu.add_argument("--rule", help="only the rows rejected by this rule (e.g. in_fiscal_year)")
    qu.add_argument("--limit", type=int, default=0, help="show at most this many rows (default all)")
    qu.add_argument("--format", choices=FORMATS, default="table", help=FORMAT_HELP)
    qu.set_defaults(func=cmd_quarantine)

    ve = sub.add_parser("verify", help="recompute the load ledger's hash chain and the data files' hashes")
    ve.add_argument(
        "--table", help="only the files and snapshots of this raw table (the chain is always checked whole)"
    )
    ve.add_argument("--year", type=int, help="only the data files of this fiscal year")
    ve.add_argument("--head", help="a chain head kept from an earlier refresh: it must still be in the ledger")
    ve.set_defaults(func=cmd_verify)

    du = sub.add_parser("data-use", help="which marts use which personal fields (register + dbt lineage)")
    du.add_argument("--format", choices=FORMATS, default="table", help=FORMAT_HELP)
    du.set_defaults(func=cmd_data_use)

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
    pl.add_argument(
        "--rebuild",
        action="store_true",
        help="after a change of plans/scenarios.yml: rebuild only the plan's models and publish them "
        "(no raw table is loaded)",
    )
    pl.add_argument(
        "--errors",
        action="store_true",
        help="with --format csv: the errors of the last plan against its year's actuals "
        "(marts.plan_vs_actual) instead of the plan, as a CSV of their own",
    )
    pl.set_defaults(func=cmd_plan)

    i = sub.add_parser(
        "ingest", help="load a published feed (file, directory or open311 http(s) endpoint) into the lake"
    )
    i.add_argument(
        "--kind",
        "--source",  # its former name, still accepted
        dest="kind",
        required=True,
        help=f"feed kind: {', '.join(FEED_KIND_NAMES)} (README.md, 'Published sources', says what each reads)",
    )
    i.add_argument(
        "--observed-at",
        type=_local_time,
        help="local time a snapshot feed without a time of its own was "
        "fetched (ca_dmv_xml, ma_rmv_xml), e.g. 2018-12-11T10:00",
    )
    i.add_argument("--name", help="name of the feed (default KIND:location name)")
    i.add_argument(
        "--service-id-prefix",
        help="namespace put before the feed's service ids (e.g. bloomington:), so they "
        "cannot collide with another feed's (feeds.yml: service_id_prefix)",
    )
    i.add_argument("location", help="file, directory or http(s) endpoint of the feed")
    i.add_argument(
        "--allow-shrink",
        action="store_true",
        help="replace a fiscal year even with far fewer rows than its previous load (see CIVIC_SHRINK_GUARD)",
    )
    i.set_defaults(func=cmd_ingest)

    fe = sub.add_parser(
        "feeds", aliases=["sources"], help="the feeds a refresh loads ($CIVIC_FEEDS or $CIVIC_HOME/feeds.yml)"
    )
    fe.add_argument("--format", choices=FORMATS, default="table", help=FORMAT_HELP)
    fe.set_defaults(func=cmd_feeds)

    dc = sub.add_parser("dictionary", help="the data dictionary of the marts (from the dbt docs)")
    dc.add_argument(
        "--format",
        choices=["md", "table", "csv", "json"],
        default="md",
        help="md (default, a document per mart), table (one row per column), csv or json",
    )
    dc.set_defaults(func=cmd_dictionary)

    rp = sub.add_parser("report", help="write the public scorecard site and open data from the marts")
    rp.add_argument("--out", help="directory of the site (default $CIVIC_HOME/report)")
    rp.set_defaults(func=cmd_report)

    s = sub.add_parser("storage", help="start/stop the local S3-compatible server (SeaweedFS)")
    s.add_argument("action", choices=["up", "down", "status"], help="start, stop or show the server")
    s.add_argument("--port", type=int, help="S3 port (default $CIVIC_S3_PORT or 8333)")
    s.set_defaults(func=cmd_storage)

    sv = sub.add_parser("serve", help="the PostgreSQL serving database BI tools connect to (CIVIC_SERVING_URI)")
    sv.add_argument(
        "action",
        choices=["setup", "publish"],
        help="setup: create the database, schema marts and the BI role (idempotent); "
        "publish: copy fiscal years of the marts there without a refresh",
    )
    sv.add_argument("--years", help=f"publish: {YEARS_HELP}")
    sv.set_defaults(func=cmd_serve)
    m = sub.add_parser("maintenance", help="list and remove orphan files (killed loads), expire old snapshots")
    m.add_argument(
        "--older-than",
        type=float,
        help="remove orphans older than this many hours (default $CIVIC_ORPHAN_MIN_AGE_HOURS or 24)",
    )
    m.add_argument("--dry-run", action="store_true", help="only list the orphans; remove and expire nothing")
    m.add_argument("--list", action="store_true", help="print every orphan with its size and age")
    m.add_argument("--format", choices=FORMATS, default="table", help=FORMAT_HELP)
    m.set_defaults(func=cmd_maintenance)

    u = sub.add_parser("ui", help="start the Dagster UI on 127.0.0.1")
    u.add_argument("--port", type=int, default=3000, help="port of the UI (default 3000)")
    u.set_defaults(func=cmd_ui)
    from orchestration.cli.governance import add_commands  # erase, retention, access-log

    add_commands(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    def run() -> int:
        _setup(args)
        return args.func(args)

    return report(args.command, run)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
