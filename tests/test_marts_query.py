"""Read-only marts queries: several connections in one process, and scoped connection reuse."""

from __future__ import annotations

import threading

import duckdb
import pytest

from lake.marts_query import connect_read_only, marts_session, run_query


@pytest.fixture
def marts_db(tmp_path):
    path = tmp_path / "lakehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.kpis as select range as n, range * 2 as twice from range(5)")
    return path


def _refused(con, sql: str) -> bool:
    try:
        con.execute(sql)
    except duckdb.Error:
        return True
    return False


def test_two_read_only_connections_to_one_file_in_one_process(marts_db):
    """The second connection used to fail on `SET lock_configuration` (already locked)."""
    first = connect_read_only(marts_db)
    second = connect_read_only(marts_db)
    try:
        assert second.execute("select count(*) from marts.kpis").fetchone() == (5,)
        assert run_query(marts_db, "select sum(n) as s from marts.kpis").rows == [(10,)]
        for con in (first, second):  # both stay locked down
            assert _refused(con, "SET enable_external_access = true")
            assert _refused(con, "RESET lock_configuration")
            assert _refused(con, f"select * from read_csv('{marts_db}')")
    finally:
        second.close()
        first.close()


def test_a_session_reuses_one_connection_and_releases_the_file(marts_db):
    with marts_session(marts_db):
        assert run_query(marts_db, "select max(twice) as m from marts.kpis").rows == [(8,)]
        with marts_session(marts_db):  # nested: the same connection
            assert run_query(marts_db, "select count(*) as c from marts.kpis").rows == [(5,)]
        errors: list[BaseException] = []

        def worker() -> None:
            try:
                for _ in range(20):
                    assert run_query(marts_db, "select sum(n) as s from marts.kpis").rows == [(10,)]
            except BaseException as err:  # noqa: BLE001 - reported below
                errors.append(err)

        threads = [threading.Thread(target=worker) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        # the session holds the file open: a writer cannot open it meanwhile
        with pytest.raises(duckdb.Error):
            duckdb.connect(str(marts_db))
    with duckdb.connect(str(marts_db)) as writer:  # released when the session ends
        writer.execute("insert into marts.kpis values (5, 10)")
    assert run_query(marts_db, "select count(*) as c from marts.kpis").rows == [(6,)]


def test_a_query_outside_a_session_leaves_the_file_unlocked(marts_db):
    assert run_query(marts_db, "select count(*) as c from marts.kpis").rows == [(5,)]
    with duckdb.connect(str(marts_db)) as writer:
        writer.execute("insert into marts.kpis values (5, 10)")


def test_table_output_escapes_control_characters_and_csv_neutralises_formulas():
    from orchestration.cli.display import render

    table = render(["name"], [("ok\x1b[2J\x1b]0;pwned\x07",)])
    assert "\x1b" not in table and "\x07" not in table and "\\x1b[2J" in table
    csv_text = render(["name", "n"], [("=cmd|' /c calc'!A1", 1), ("+1+1", 2), ("@SUM(A1)", 3), ("plain", -4)], "csv")
    assert csv_text.splitlines()[1:] == ["'=cmd|' /c calc'!A1,1", "'+1+1,2", "'@SUM(A1),3", "plain,-4"]


def test_civic_sql_rewrites_a_mart_query_for_another_engine(tmp_path, capsys):
    from orchestration.cli.main import main

    query = tmp_path / "q.sql"
    query.write_text("select service_id, string_agg(channel, ',') as channels from marts.kpis group by 1 limit 3")
    assert main(["sql", "--to", "tsql", str(query)]) == 0
    out = capsys.readouterr().out
    assert "TOP 3" in out and "STRING_AGG" in out and "marts.kpis" in out
    query.write_text("select * from pg_catalog.pg_settings")
    assert main(["sql", "--to", "postgres", str(query)]) == 2
    assert "outside the allowed schemas" in capsys.readouterr().err
