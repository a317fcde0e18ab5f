"""The marts-only file readers open: swapped in atomically, never blocked by a reader,
holding the marts alone (issue 13 item 2, issue 18 items 2 and 16)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import duckdb
import pytest

from lake.marts_file import publish_marts_file, write_marts_file
from lake.marts_query import connect_read_only, run_query


def _build(path, rows: int) -> None:
    """A dbt-like build: raw and staging besides the marts, one of them a view."""
    with duckdb.connect(str(path)) as con:
        con.execute("create schema if not exists raw; create schema if not exists staging")
        con.execute("create schema if not exists marts")
        con.execute("create or replace table raw.events as select range as n from range(10)")
        con.execute("create or replace view staging.stg_events as select n from raw.events")
        con.execute(f"create or replace table marts.kpis as select range as n from range({rows})")
        con.execute("create or replace view marts.kpis_view as select n from staging.stg_events")


READER = textwrap.dedent(
    """
    import sys, duckdb
    con = duckdb.connect(sys.argv[1], read_only=True)
    print(con.execute("select count(*) from marts.kpis").fetchone()[0], flush=True)
    sys.stdin.readline()  # hold the connection open until told
    print(con.execute("select count(*) from marts.kpis").fetchone()[0], flush=True)
    """
)


def test_a_refresh_swaps_the_file_while_a_reader_holds_the_old_one(tmp_path):
    build, target = tmp_path / "lakehouse.duckdb", tmp_path / "marts_only.duckdb"
    _build(build, 5)
    publish_marts_file(build, target)
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(target)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert reader.stdout.readline().strip() == "5"
        in_process = connect_read_only(target)  # a reader in this process too
        _build(build, 7)
        refreshed = publish_marts_file(build, target)  # does not wait for either reader
        assert refreshed.tables == {"kpis": 7, "kpis_view": 10}
        assert in_process.execute("select count(*) from marts.kpis").fetchone() == (5,)
        in_process.close()
        out, _ = reader.communicate("go\n", timeout=30)
        assert out.strip() == "5"  # the old snapshot, consistently
    finally:
        reader.kill()
    assert run_query(target, "select count(*) as n from marts.kpis").rows == [(7,)]  # a new connection


def test_the_file_holds_the_marts_alone(tmp_path):
    build, target = tmp_path / "lakehouse.duckdb", tmp_path / "marts_only.duckdb"
    _build(build, 3)
    publish_marts_file(build, target)
    with duckdb.connect(str(target), read_only=True) as con:
        assert con.execute("select schema_name, table_name, sql from duckdb_tables()").fetchall()[0][:2] == (
            "marts",
            "kpis",
        )
        assert {s for (s,) in con.execute("select distinct schema_name from duckdb_tables()").fetchall()} == {"marts"}
        assert con.execute("select count(*) from duckdb_views() where not internal").fetchone() == (0,)
        dump = repr(con.execute("select * from duckdb_tables()").fetchall())
    assert "staging" not in dump and "raw" not in dump and str(build) not in dump


def test_a_failed_copy_leaves_the_published_file_as_it_was(tmp_path):
    build, target = tmp_path / "lakehouse.duckdb", tmp_path / "marts_only.duckdb"
    _build(build, 4)
    publish_marts_file(build, target)
    with pytest.raises(duckdb.Error):
        write_marts_file(tmp_path / "missing.duckdb", target)
    assert run_query(target, "select count(*) as n from marts.kpis").rows == [(4,)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lakehouse.duckdb", "marts_only.duckdb"]


def test_a_file_named_marts_is_refused(tmp_path):
    with pytest.raises(ValueError, match="ambiguous"):
        write_marts_file(tmp_path / "lakehouse.duckdb", tmp_path / "marts.duckdb")


def test_the_marts_file_is_published_only_after_every_dbt_mart_and_its_tests():
    """The publish step (Iceberg and the marts-only file) depends on every mart of the dbt
    build, which runs `dbt build` (models and tests): a failed test fails the dbt step, and
    Dagster then never runs the publish step, so readers keep the last good marts."""
    from orchestration.definitions import defs
    from orchestration.defs.marts.publish import iceberg_mart_key

    graph = defs.resolve_asset_graph()
    marts = {k for k in graph.get_all_asset_keys() if k.path[0] == "marts"}
    publication = defs.resolve_assets_def(iceberg_mart_key(next(iter(marts))))
    assert marts and {iceberg_mart_key(k) for k in marts} == set(publication.keys)  # one step
    assert marts <= {dep for deps in publication.asset_deps.values() for dep in deps}


@pytest.mark.slow
def test_a_failed_dbt_test_leaves_the_marts_readers_see_as_they_were(demo_build):
    """Issue 18.16 on the session's demo lake: a services catalogue offering an unknown
    channel fails a dbt test in a refresh of FY2025; the refresh fails, and neither the
    marts-only file nor the marts in Iceberg change. Runs after every other user of
    demo_build (this module sorts after test_end_to_end and test_marts_end_to_end): it
    leaves FY2025 of raw.services with that channel."""
    import csv
    import io

    from lake.catalog import open_catalog
    from lake.settings import load_settings
    from orchestration.cli import main
    from tests.conftest import use_home

    home, _, _ = demo_build
    with pytest.MonkeyPatch.context() as mp:
        use_home(mp, home)
        settings = load_settings()
        catalog = open_catalog(settings)

        def iceberg_marts() -> dict[str, int]:
            tables = catalog.list_tables("marts")
            return {".".join(t): catalog.load_table(t).current_snapshot().snapshot_id for t in tables}

        def readers_see():
            stat = settings.marts_path.stat()
            sql = "select * from marts.service_requests_summary order by all"
            return (stat.st_ino, stat.st_mtime_ns), run_query(settings.marts_path, sql).rows

        before, snapshots = readers_see(), iceberg_marts()
        services = home / "landing" / "services" / "fy=2025" / "services.csv"
        original = services.read_text()
        rows = list(csv.DictReader(io.StringIO(original)))
        rows[0]["channels"] += ";kiosk"
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        services.write_text(out.getvalue())
        try:
            assert main(["refresh", "--years", "2025"]) == 1
        finally:
            services.write_text(original)
        assert readers_see() == before
        assert iceberg_marts() == snapshots


WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from lake.marts_file import publish_marts_file
    publish_marts_file(Path(sys.argv[1]), Path(sys.argv[2]))
    """
)


def test_a_publication_killed_before_its_swap_leaves_the_last_file_and_no_leftover(tmp_path):
    """SIGKILL while the new file is being written: readers still get the last complete
    file, and the next publication removes the dead one's half-written file."""
    import os
    import signal
    import time

    build, target = tmp_path / "lakehouse.duckdb", tmp_path / "marts_only.duckdb"
    _build(build, 3)
    publish_marts_file(build, target)
    _build(build, 30_000_000)  # big enough that the copy takes a while
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(build), str(target)])
    deadline = time.monotonic() + 120
    while not any(p.stat().st_size > 0 for p in tmp_path.glob(".marts_only.duckdb.*.new*")):
        assert writer.poll() is None, "the publication ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.01)
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait()
    leftovers = list(tmp_path.glob(".marts_only.duckdb.*.new*"))
    assert leftovers  # the dead publication's half-written file
    assert run_query(target, "select count(*) from marts.kpis").rows == [(3,)]  # the last complete file

    _build(build, 5)
    publish_marts_file(build, target)
    assert not [p for p in leftovers if p.exists()]
    assert run_query(target, "select count(*) from marts.kpis").rows == [(5,)]


def test_a_living_publications_file_is_left_alone(tmp_path):
    from lake.marts_file import remove_leftovers

    target = tmp_path / "marts_only.duckdb"
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        alive = tmp_path / f".marts_only.duckdb.{sleeper.pid}.new"
        alive.write_bytes(b"being written")
        done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
        dead = tmp_path / f".marts_only.duckdb.{done.stdout.strip()}.new.wal"
        dead.write_bytes(b"left by a killed run")
        assert remove_leftovers(target) == [dead]
        assert alive.exists()
    finally:
        sleeper.kill()
