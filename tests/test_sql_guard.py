"""The guard and the locked-down connection against a corpus of hostile queries (issue 18,
items 1-6): every hostile query is refused, stopped by a limit, or shows nothing but the
marts; every legitimate analyst query runs. One marts-only file for the session."""

from __future__ import annotations

import time

import duckdb
import pytest

from lake.marts_file import publish_marts_file
from lake.marts_query import QueryFailed, QueryLimitHit, QueryLimits, marts_session, run_query
from lake.sql_functions import OPERATORS, SCALAR_AND_AGGREGATE, TABLE_FUNCTIONS
from lake.sql_guard import MAX_NESTING, QueryRefused, guard, judge
from tests.sql_corpus.hostile import HOSTILE, KINDS
from tests.sql_corpus.legitimate import LEGITIMATE

CORPUS_LIMITS = QueryLimits(timeout_seconds=1.0, memory_limit="256MB", max_rows=1000, threads=1)
SCORECARD_COLUMNS = ("fiscal_year", "service_id", "perspective", "measure", "actual", "target", "score", "status")
CANARIES = ("CANARY", "stg_service_requests", "queue_events", "lakehouse.duckdb")


@pytest.fixture(scope="session")
def marts_file(tmp_path_factory):
    """A dbt-like build file (raw table, staging view, marts) and its marts-only copy.
    Returns (marts file, strings that must never reach a reader)."""
    home = tmp_path_factory.mktemp("guard")
    build = home / "lakehouse.duckdb"
    with duckdb.connect(str(build)) as con:
        con.execute("create schema raw; create schema staging; create schema marts")
        con.execute("create table raw.queue_events as select 'CANARY-RAW-ROW' as secret, range as n from range(3)")
        con.execute(
            "create view staging.stg_service_requests as select *, 'CANARY-VIEW-SQL' as tag from raw.queue_events"
        )
        con.execute(
            """create table marts.scorecard as
            select 2021 + (i % 5) as fiscal_year, 'svc' || (i % 8) as service_id,
                   ['financial', 'citizen', 'process', 'capacity'][1 + i % 4] as perspective,
                   ['wait_minutes', 'cost_per_transaction', 'satisfaction'][1 + i % 3] as measure,
                   (i % 17) * 1.5 as actual, 10.0 as target, (i % 17) * 0.15 as score,
                   ['met', 'near', 'missed'][1 + i % 3] as status
            from range(200) t(i)"""
        )
        con.execute(
            """create table marts.service_requests_summary as
            select 2021 + (i % 5) as fiscal_year, 'svc' || (i % 8) as service_id,
                   ['online', 'phone', 'in_person'][1 + i % 3] as channel,
                   (i * 7) % 50 + 1 as requests, (i * 5) % 40 as closed
            from range(120) t(i)"""
        )
        con.execute("create view marts.scorecard_met as select * from marts.scorecard where status = 'met'")
    published = publish_marts_file(build, home / "marts_only.duckdb")
    return published.path, (*CANARIES, str(home))


@pytest.fixture(scope="module")
def corpus_session(marts_file):
    path, canaries = marts_file
    with marts_session(path, CORPUS_LIMITS):
        yield path, canaries


def _outcome(path, sql: str, canaries) -> str:
    """refused / limit / failed / ran; fails the test on a leak or an unexpected error."""
    started = time.monotonic()
    try:
        result = run_query(path, sql, CORPUS_LIMITS)
    except QueryRefused as err:
        assert "\n" not in str(err)
        return "refused"
    except QueryLimitHit:
        return "limit"
    except QueryFailed as err:
        leaked = [c for c in canaries if c.lower() in str(err).lower()]
        assert not leaked, f"error names {leaked}: {err}"
        return "failed"
    finally:
        assert time.monotonic() - started < CORPUS_LIMITS.timeout_seconds + 10, "query ran unbounded"
    shown = repr(result.columns) + repr(result.rows)
    leaked = [c for c in canaries if c.lower() in shown.lower()]
    assert not leaked, f"result shows {leaked}"
    assert len(result.rows) <= CORPUS_LIMITS.max_rows
    return "ran"


def test_the_corpus_is_large_and_covers_every_kind():
    assert len(HOSTILE) >= 200
    assert all(len(queries) >= 5 for queries in KINDS.values())


@pytest.mark.parametrize("kind, sql", HOSTILE, ids=[f"{kind}-{i}" for i, (kind, _) in enumerate(HOSTILE)])
def test_hostile_queries_are_refused_or_harmless(corpus_session, kind, sql):
    path, canaries = corpus_session
    outcome = _outcome(path, sql, canaries)
    if kind == "cte_shadow" and outcome == "ran":  # only where the name really is a CTE over marts
        columns = set(run_query(path, sql, CORPUS_LIMITS).columns)
        assert columns <= set(SCORECARD_COLUMNS) | {"one"}, sql
    elif kind in ("cte_shadow", "system_tables", "functions", "table_functions", "statements", "multi_statement"):
        assert outcome == "refused", sql[:200]
    if kind == "unbounded":
        assert outcome in ("refused", "limit", "ran"), sql[:200]  # bounded: the clock above
    if kind == "crashes":
        assert outcome in ("refused", "failed"), sql[:200]


@pytest.mark.parametrize("sql", LEGITIMATE)
def test_legitimate_analyst_queries_run(corpus_session, sql):
    path, _ = corpus_session
    result = run_query(path, sql, CORPUS_LIMITS)
    assert result.columns


def test_results_keep_the_column_names_the_user_wrote(corpus_session):
    path, _ = corpus_session
    result = run_query(path, "select string_agg(service_id, ',') from marts.scorecard", CORPUS_LIMITS)
    assert result.columns == ["string_agg(service_id, ',')"]


def test_a_cte_shadows_only_inside_its_scope(corpus_session):
    path, _ = corpus_session
    # the CTE named like a system view is really that CTE here: allowed, and reads marts
    sql = "with pg_settings as (select * from marts.scorecard) select count(*) as n from pg_settings"
    assert run_query(path, sql, CORPUS_LIMITS).rows == [(200,)]
    with pytest.raises(QueryRefused, match="pg_settings"):
        guard("with pg_settings as (select * from pg_settings) select name, setting from pg_settings")
    with pytest.raises(QueryRefused, match="'a'"):  # a later sibling is not in scope yet
        guard("with b as (select * from a), a as (select 1) select * from b")


def test_error_messages_name_only_marts(corpus_session):
    path, _ = corpus_session
    with pytest.raises(QueryFailed) as err:
        run_query(path, "select * from marts.scorecards", CORPUS_LIMITS)
    assert 'did you mean "marts.scorecard"' in str(err.value)
    with pytest.raises(QueryFailed) as err:
        run_query(path, "select * from marts.stg_service_request", CORPUS_LIMITS)
    assert "staging" not in str(err.value) and "\n" not in str(err.value)


def test_information_schema_and_describe_show_only_marts(corpus_session):
    path, _ = corpus_session
    tables = run_query(path, "select table_schema, table_name from information_schema.tables", CORPUS_LIMITS)
    assert {schema for schema, _ in tables.rows} == {"marts"}
    assert run_query(path, "show tables", CORPUS_LIMITS).rows == [
        ("scorecard",),
        ("scorecard_met",),
        ("service_requests_summary",),
    ]
    described = run_query(path, "describe marts.scorecard", CORPUS_LIMITS)
    assert [r[0] for r in described.rows][:2] == ["fiscal_year", "service_id"]


def test_each_limit_stops_a_query_with_a_one_line_message(marts_file):
    path, _ = marts_file
    limits = QueryLimits(timeout_seconds=0.5, memory_limit="64MB", max_rows=50, threads=1)
    with pytest.raises(QueryLimitHit, match=r"time limit of 0.5 s \(CIVIC_QUERY_TIMEOUT\)"):
        run_query(path, "select count(*) from range(100000) a, range(100000) b", limits)
    with pytest.raises(QueryLimitHit, match=r"memory limit of 64MB \(CIVIC_QUERY_MEMORY\)"):
        run_query(path, "select list(range) from range(100000000)", QueryLimits(60, "64MB", 50, 1))
    result = run_query(path, "select * from marts.scorecard", limits)
    assert result.truncated and len(result.rows) == 50


def test_nesting_is_refused_before_parsing():
    with pytest.raises(QueryRefused, match=f"limit is {MAX_NESTING}"):
        guard("select " + "(" * 7000 + "1" + ")" * 7000)
    guard("select " + "(" * MAX_NESTING + "1" + ")" * MAX_NESTING)


def test_the_function_allowlist_names_real_duckdb_functions_and_no_dangerous_one():
    with duckdb.connect() as con:
        known = {n.lower() for (n,) in con.execute("select distinct function_name from duckdb_functions()").fetchall()}
    parsed_specially = {"coalesce", "ifnull"}  # DuckDB parses these as operators
    assert SCALAR_AND_AGGREGATE - known <= parsed_specially
    assert (OPERATORS | TABLE_FUNCTIONS) - known <= {"!"}
    dangerous = {"current_setting", "getenv", "getvariable", "pg_get_viewdef", "query", "read_text", "version"}
    assert not dangerous & (SCALAR_AND_AGGREGATE | TABLE_FUNCTIONS)


@pytest.mark.parametrize("dialect, sql", [
    ("postgres", "select service_id::text, count(*) from marts.scorecard group by 1 order by 1 limit 2"),
    ("tsql", "select top 2 service_id, count(*) as n from marts.scorecard group by service_id order by service_id"),
    ("snowflake", "select service_id, iff(score > 1, 'hi', 'lo') as band from marts.scorecard limit 2"),
    ("bigquery", "select service_id, safe_divide(actual, target) as r from marts.scorecard limit 2"),
    ("spark", "select service_id, nvl(score, 0) as s from marts.scorecard limit 2"),
    ("trino", "select service_id, try_cast(score as varchar) as s from marts.scorecard limit 2"),
])  # fmt: skip
def test_a_query_in_a_bi_tools_dialect_runs(corpus_session, dialect, sql):
    path, _ = corpus_session
    assert len(run_query(path, sql, CORPUS_LIMITS, dialect=dialect).rows) == 2


def test_another_dialect_cannot_smuggle_what_duckdb_refuses():
    with pytest.raises(QueryRefused):
        judge("select current_setting('threads')", "postgres")
    with pytest.raises(QueryRefused):
        judge("select * from pg_catalog.pg_settings", "postgres")
