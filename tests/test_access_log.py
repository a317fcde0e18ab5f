"""The access log (lake.access_log): every `civic query` logged, refused or not, spooled and
moved into governance.access_log, reported per month by `civic access-log`."""

import datetime as dt
import json

import duckdb
import pytest

from lake.access_log import (
    ACCESS_LOG_TABLE,
    Access,
    append_to_spool,
    flush_spool,
    monthly_report,
    query_facts,
    read_access_log,
    spool_path,
)
from orchestration.cli import main


def test_a_fingerprint_is_the_normalised_query_and_names_its_marts():
    fp, marts = query_facts("select a, count(*) from marts.scorecard s join marts.kpis k using (a) group by 1")
    same, _ = query_facts("SELECT a,   COUNT(*)\n FROM marts.scorecard AS s JOIN marts.kpis AS k USING (a) GROUP BY 1")
    other, _ = query_facts("select a, count(*) from marts.scorecard s join marts.kpis k using (a) group by 1 limit 5")
    assert marts == ["kpis", "scorecard"] and fp == same != other and len(fp) == 64
    # a query from another dialect is normalised to DuckDB's text first
    assert (
        query_facts("select top 3 a from marts.kpis", "tsql")[0] == query_facts("select a from marts.kpis limit 3")[0]
    )
    # a refused query names what it tried to read; text sqlglot cannot parse still gets one
    assert query_facts("select * from raw.loads")[1] == ["raw.loads"]
    assert query_facts("select from where (")[1] == []


def _access(at: dt.datetime, user: str, marts: str, rows: int | None, outcome: str = "ok") -> Access:
    return Access(f"{at.isoformat()}{user}{marts}", at, user, None, "civic query", marts, "f" * 64, rows, outcome,
                  outcome == "refused", 1.0)  # fmt: skip


def test_the_monthly_report_counts_queries_rows_and_refusals_per_user_and_mart():
    nov, dec = dt.datetime(2026, 11, 30, 23, 59, tzinfo=dt.UTC), dt.datetime(2026, 12, 1, 0, 1, tzinfo=dt.UTC)
    accesses = [
        _access(nov, "ana", "scorecard", 10),
        _access(dec, "ana", "kpis,scorecard", 5),
        _access(dec, "ana", "scorecard", 7),
        _access(dec, "bob", "", None, "refused"),
    ]
    rows = [r[:7] for r in monthly_report([vars(a) for a in accesses])]
    assert rows == [
        ("2026-11", "ana", None, "scorecard", 1, 0, 10),
        ("2026-12", "ana", None, "kpis", 1, 0, 5),
        ("2026-12", "ana", None, "scorecard", 2, 0, 12),
        ("2026-12", "bob", None, "-", 1, 1, 0),
    ]


def test_the_spool_moves_into_its_own_iceberg_table_once(lake):
    settings, catalog = lake
    at = dt.datetime(2026, 12, 7, 10, 0, tzinfo=dt.UTC)
    append_to_spool(settings.home, _access(at, "ana", "scorecard", 3))
    assert spool_path(settings.home).stat().st_mode & 0o777 == 0o600
    assert flush_spool(catalog, settings.home) == 1
    assert not spool_path(settings.home).exists() and flush_spool(catalog, settings.home) == 0
    # a flush killed after its commit leaves its renamed spool: the next one adds nothing twice
    append_to_spool(settings.home, _access(at, "ana", "scorecard", 3))
    leftover = spool_path(settings.home).with_name("access_log.jsonl.x.flushing")
    spool_path(settings.home).rename(leftover)
    append_to_spool(settings.home, _access(at + dt.timedelta(minutes=1), "bob", "kpis", 1))
    leftover.write_text(leftover.read_text() + '{"cut": ')  # and a line cut mid-write is skipped
    assert flush_spool(catalog, settings.home) == 1
    logged = read_access_log(catalog)
    assert [(r["os_user"], r["marts"], r["rows"]) for r in logged] == [("ana", "scorecard", 3), ("bob", "kpis", 1)]
    assert ACCESS_LOG_TABLE.split(".")[0] == "governance" and read_access_log(catalog, "2026-11") == []


@pytest.fixture
def marts_lake(lake):
    settings, catalog = lake
    with duckdb.connect(str(settings.marts_path)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.kpis as select * from range(5) t(a)")
    return settings, catalog


def test_every_civic_query_is_logged_refused_or_not_and_reported(marts_lake, capsys):
    settings, catalog = marts_lake
    assert main(["query", "select a from marts.kpis where a < 3"]) == 0
    assert main(["query", "select * from raw.loads"]) == 2
    assert main(["query", "select nope from marts.kpis"]) == 2  # fails in DuckDB
    capsys.readouterr()
    spooled = [json.loads(line) for line in spool_path(settings.home).read_text().splitlines()]
    assert [(s["marts"], s["rows"], s["outcome"], s["refused"]) for s in spooled] == [
        ("kpis", 3, "ok", False),
        ("raw.loads", None, "refused", True),
        ("kpis", None, "failed", False),
    ]
    assert {s["os_user"] for s in spooled} == {spooled[0]["os_user"]} and spooled[0]["os_user"]
    # the marts-only file BI reads holds no log
    with duckdb.connect(str(settings.marts_path), read_only=True) as con:
        assert con.execute("select distinct table_schema from information_schema.tables").fetchall() == [("marts",)]

    month = dt.datetime.now(dt.UTC).strftime("%Y-%m")
    assert main(["access-log", "--month", month, "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [(r["mart"], r["queries"], r["refused"], r["rows"]) for r in report] == [
        ("kpis", 2, 0, 3),
        ("raw.loads", 1, 1, 0),
    ]
    assert not spool_path(settings.home).exists()
    assert main(["access-log", "--month", "2026-13"]) == 2
    assert "expected YYYY-MM" in capsys.readouterr().err
