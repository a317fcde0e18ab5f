"""`civic erase`, `civic retention` and `civic access-log`: the data-use register enforced
on the lake (lake/erasure.py, lake/retention.py) and the report of who read what
(lake/access_log.py). `add_commands` registers them on the parser of main.py."""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys

from lake.settings import Settings, load_settings
from orchestration.cli.errors import CliFailure, UsageError, no_lake, one_line

FORMATS = ["table", "csv", "json"]
MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def _lake(settings: Settings):
    from lake.catalog import open_catalog
    from orchestration.cli.main import _lake_exists

    if not _lake_exists(settings):
        raise no_lake(settings.home)
    return open_catalog(settings)


def _register():
    from contracts.register import RegisterError, read_register

    try:
        return read_register()
    except RegisterError as err:
        raise CliFailure(one_line(err)) from None


def _pseudonym(settings: Settings, args) -> str:
    """The pseudonym to erase: given, or computed from the clear identifier with the key."""
    from ingestion.pseudonymise import PseudonymKeyError, is_pseudonym
    from orchestration.load.flow import keyring_of

    if args.pseudonym:
        if not is_pseudonym(args.pseudonym):
            raise UsageError(f"{args.pseudonym!r} is not a pseudonym (p<version>:<64 hex digits>)")
        return args.pseudonym
    try:
        keyring = keyring_of(settings)
    except PseudonymKeyError as err:
        raise CliFailure(one_line(err)) from None
    if keyring is None:
        raise CliFailure(
            "no pseudonymisation key configured (CIVIC_PSEUDONYM_KEY or CIVIC_PSEUDONYM_KEY_FILE): "
            "give the pseudonym with --pseudonym"
        )
    return keyring.pseudonym(args.domain, args.identifier.strip())


def _remove(settings: Settings, catalog, selections, feed: str):
    from lake.dbt_source import arrow_filesystem
    from lake.erasure import remove_rows
    from lake.locks import catalog_write_lock, refresh_lock

    # no load commits meanwhile: the files only old snapshots reach can go at once
    with refresh_lock(settings, print), catalog_write_lock(settings, print):
        fs = arrow_filesystem(settings, settings.warehouse)
        # a served catalog takes commits from other machines: only the files the expired
        # snapshots alone reached are deleted, never a file a running load is placing
        return remove_rows(catalog, fs, settings.work_dir, selections, feed, every_orphan=settings.catalog_is_sqlite)


def _report_removals(removals, what: str) -> None:
    from orchestration.cli.display import render

    rows = [(r.table, r.fiscal_year, r.source, r.raw_rows, r.quarantine_rows, f"#{r.entry.seq}") for r in removals]
    print(render(["table", "fiscal_year", "source", "rows_removed", "quarantined_removed", "ledger_entry"], rows))
    total = sum(r.raw_rows + r.quarantine_rows for r in removals)
    print(
        f"{what}: {total} row(s) removed from {len(removals)} partition(s); older snapshots expired, their files deleted"
    )


def _rebuild(settings: Settings, removals) -> int:
    """Rebuild the marts of the years touched from the raw tables as they now are."""
    from orchestration.cli.main import _dagster_home, _print_chain_head
    from orchestration.cli.refresh import run_refresh

    years = sorted({r.fiscal_year for r in removals if r.fiscal_year is not None} & set(settings.fiscal_years))
    if years:
        _dagster_home()
        print(f"Rebuilding the marts of FY{', FY'.join(map(str, years))} (no raw load)")
        from lake.locks import refresh_lock

        with refresh_lock(settings, print):
            outcome = run_refresh(years, rebuild_only=True)
        if not outcome.success:
            for failure in outcome.failures:
                print(f"  - {failure}", file=sys.stderr)
            raise CliFailure("the rows are removed but the marts were not rebuilt: run `civic refresh` for those years")
    _print_chain_head(settings)
    return 0


def cmd_erase(args) -> int:
    """Delete one person's rows everywhere in the lake (docs/trust.md, "Erasure")."""
    from lake.erasure import pseudonym_selections

    settings = load_settings()
    catalog = _lake(settings)
    value = _pseudonym(settings, args)
    removals = _remove(settings, catalog, pseudonym_selections(_register(), value), "erasure")
    if not removals:
        print("no row of the raw tables or the quarantine holds that pseudonym: nothing erased")
        return 0
    _report_removals(removals, "erased")
    return _rebuild(settings, removals)


def cmd_retention(args) -> int:
    """Remove the rows past their dataset's retention (the register's retention_years)."""
    from lake.erasure import year_selections
    from lake.retention import first_kept_years

    settings = load_settings()
    catalog = _lake(settings)
    today = args.today or dt.date.today()
    kept = first_kept_years(_register(), settings.calendar, today)
    for entity, year in sorted(kept.items()):
        print(f"  {entity}: rows of FY{year - 1} and earlier are past retention")
    if args.dry_run:
        return 0
    removals = _remove(settings, catalog, year_selections(kept), "retention")
    if not removals:
        print("no row is past its retention: nothing removed")
        return 0
    _report_removals(removals, "retention")
    return _rebuild(settings, removals)


def cmd_access_log(args) -> int:
    """Who read which marts, per month (the spool is moved into the table first)."""
    from lake.access_log import REPORT_COLUMNS, flush_spool, monthly_report, read_access_log
    from lake.locks import catalog_write_lock
    from orchestration.cli.display import render

    if args.month and not MONTH.match(args.month):
        raise UsageError(f"--month {args.month!r}: expected YYYY-MM, e.g. 2026-12")
    settings = load_settings()
    catalog = _lake(settings)
    if settings.serving_uri:  # the BI role's reads of the serving database, too
        from lake.serving_audit import AuditError, pull_reads

        try:
            pull_reads(settings.serving_uri, settings.home)
        except AuditError as err:
            raise CliFailure(one_line(err)) from None
    with catalog_write_lock(settings, print):
        flush_spool(catalog, settings.home)
    rows = monthly_report(read_access_log(catalog, args.month))
    print(render(list(REPORT_COLUMNS), rows, args.format))
    return 0


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date: {text!r} (e.g. 2026-12-07)") from None


def add_commands(sub) -> None:
    """Register erase, retention and access-log on the subparsers of `civic`."""
    e = sub.add_parser("erase", help="delete one person's rows from every raw table and the quarantine")
    who = e.add_mutually_exclusive_group(required=True)
    who.add_argument("--pseudonym", help="the person's pseudonym (p1:...), as the raw tables hold it")
    who.add_argument("--identifier", help="the person's identifier in clear (pseudonymised here with the key)")
    e.add_argument("--domain", default="respondent", help="pseudonym domain of --identifier (default respondent)")
    e.set_defaults(func=cmd_erase)

    r = sub.add_parser("retention", help="remove the rows past their dataset's retention (the data-use register)")
    r.add_argument("--dry-run", action="store_true", help="only print each dataset's retention cutoff")
    r.add_argument("--today", type=_date, help="the date retention is counted from (default today)")
    r.set_defaults(func=cmd_retention)

    a = sub.add_parser("access-log", help="who read which marts, per month (governance.access_log)")
    a.add_argument("--month", help="only this month, YYYY-MM (UTC)")
    a.add_argument("--format", choices=FORMATS, default="table", help="output format: table (default), csv or json")
    a.set_defaults(func=cmd_access_log)
