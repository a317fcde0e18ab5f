"""The production profile for real: Iceberg catalog and Dagster storage on PostgreSQL
(127.0.0.1:5432), the warehouse on SeaweedFS over HTTP. The tests create and drop their
own databases.

- two refreshes of different fiscal years at the same time, as two CLI processes: both
  land, with exact row counts, nothing lost or duplicated;
- two refreshes of the same fiscal year at the same time: both finish, both loads are
  chained in the ledger, and each raw partition holds one load's rows, never a mix;
- a SeaweedFS restart in the middle of a session: the data is still there and work goes on;
- a transient S3 outage during a refresh: the step is retried and the refresh succeeds.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from bench.env import create_databases, drop_databases, pg_admin, production_env
from contracts.entities import ENTITIES as ALL_ENTITIES
from lake.catalog import open_catalog
from lake.commit import partition_filter
from lake.load_ledger import read_loads
from lake.marts_query import run_query
from lake.settings import load_settings
from lake.verify import verify_lake
from orchestration.services import seaweed

ACCESS_KEY, SECRET_KEY, BUCKET = "civic-prod", "civic-prod-secret", "civic-lake"
# the entities the demo landing zone fills
ENTITIES = ("services", "queue_events", "web_sessions", "survey_responses", "service_requests", "ledger_entries")
YEARS = (2023, 2024)


@pytest.fixture(scope="module")
def databases():
    try:
        pg_admin("select 1")
    except psycopg.OperationalError as err:  # pragma: no cover - the machine runs PostgreSQL
        pytest.fail(f"PostgreSQL is not reachable on 127.0.0.1:5432: {err}")
    names = create_databases("civic_test")
    yield names
    drop_databases(names)


@pytest.fixture(scope="module")
def production(tmp_path_factory, databases):
    root = tmp_path_factory.mktemp("production")
    server = seaweed.start(root / "seaweed", ACCESS_KEY, SECRET_KEY)
    seaweed.ensure_bucket(server.client(), BUCKET)
    env = production_env(root / "civic", databases, server.endpoint, ACCESS_KEY, SECRET_KEY, f"s3://{BUCKET}/warehouse")
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value)
        for var in ("CIVIC_LANDING", "CIVIC_DUCKDB", "DAGSTER_HOME"):
            mp.delenv(var, raising=False)
        from ingestion.demo import generate_demo

        truths = generate_demo(root / "civic" / "landing", years=YEARS, size=0.2)
        state = {"server": server, "env": {**os.environ}, "truths": truths, "root": root}
        yield state
        state["server"].stop()


def _civic(env: dict, *args: str) -> subprocess.Popen:
    civic = Path(sys.executable).with_name("civic")
    return subprocess.Popen([str(civic), *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _expect_exact_rows(truths: dict, years=YEARS) -> None:
    catalog = open_catalog(load_settings())
    for entity in ENTITIES:
        table = catalog.load_table(f"raw.{entity}")
        for year in years:
            rows = table.scan(row_filter=partition_filter(year)).to_arrow()
            written = truths["rows_written"].get(entity, {}).get(str(year), {"good": 12})
            assert rows.num_rows == written["good"], (entity, year)
            assert len(set(rows["_load_id"].to_pylist())) == 1  # one load replaced the year


def test_two_concurrent_refreshes_of_different_years_both_land(production):
    env, truths = production["env"], production["truths"]
    started = time.monotonic()
    procs = {year: _civic(env, "refresh", "--years", str(year)) for year in YEARS}
    outputs = {year: proc.communicate(timeout=900)[0] for year, proc in procs.items()}
    took = time.monotonic() - started
    for year, proc in procs.items():
        assert proc.returncode == 0, outputs[year][-3000:]

    _expect_exact_rows(truths)
    catalog = open_catalog(load_settings())
    loads = read_loads(catalog).to_pylist()
    per_table_year = {}
    for rec in loads:
        per_table_year.setdefault((rec["table_name"], rec["fiscal_year"]), []).append(rec)
        assert rec["received"] == rec["loaded"] + rec["quarantined"]
    # every raw table records its load, also the aggregated ones the demo delivers no rows for
    assert set(per_table_year) == {(f"raw.{e}", y) for e in ALL_ENTITIES for y in YEARS}
    assert all(len(v) == 1 for v in per_table_year.values())

    marts = run_query(
        load_settings().duckdb_path,
        "select fiscal_year, count(*) from marts.service_channel_kpis where channel = 'all' group by 1 order by 1",
    )
    assert marts.rows == [(2023, 12), (2024, 12)]
    published = catalog.load_table("marts.service_channel_kpis").scan().to_arrow()
    assert sorted(set(published["fiscal_year"].to_pylist())) == [2023, 2024]

    # the Dagster runs are in PostgreSQL
    with psycopg.connect(f"host=127.0.0.1 user=postgres dbname={env['DAGSTER_PG_DB']}") as con:
        statuses = [r[0] for r in con.execute("select status from runs").fetchall()]
    assert statuses.count("SUCCESS") >= 2
    received = sum(rec["received"] for rec in loads)
    print(f"\nconcurrent refresh of FY2023 and FY2024: {took:.1f}s, {len(loads)} loads, {received:,} rows received")


def test_two_concurrent_refreshes_of_the_same_year_give_one_result(production):
    """The same fiscal year refreshed twice at once: both finish, both loads are in the
    ledger (its chain unbroken), and every raw partition holds one load's rows, never a mix."""
    env, truths = production["env"], production["truths"]
    catalog = open_catalog(load_settings())
    before = {r["load_id"] for r in read_loads(catalog, fiscal_year=2023).to_pylist()}
    procs = [_civic(env, "refresh", "--years", "2023") for _ in range(2)]
    outputs = [proc.communicate(timeout=900)[0] for proc in procs]
    for proc, out in zip(procs, outputs):
        assert proc.returncode == 0, out[-3000:]

    _expect_exact_rows(truths, years=(2023,))  # one load id per table: one result
    catalog = open_catalog(load_settings())
    new = [r for r in read_loads(catalog, fiscal_year=2023).to_pylist() if r["load_id"] not in before]
    per_table: dict[str, list[str]] = {}
    for rec in new:
        per_table.setdefault(rec["table_name"], []).append(rec["load_id"])
    assert set(per_table) == {f"raw.{e}" for e in ALL_ENTITIES}
    assert all(len(ids) == 2 for ids in per_table.values())  # each refresh recorded its load
    for entity in ENTITIES:
        rows = catalog.load_table(f"raw.{entity}").scan(row_filter=partition_filter(2023)).to_arrow()
        assert set(rows["_load_id"].to_pylist()) <= set(per_table[f"raw.{entity}"])
    assert verify_lake(catalog).problems == []
    marts = run_query(
        load_settings().duckdb_path,
        "select count(*) from marts.service_channel_kpis where fiscal_year = 2023 and channel = 'all'",
    )
    assert marts.rows == [(12,)]


def test_seaweedfs_restart_mid_session_keeps_the_data(production):
    server = production["server"]
    server.stop()
    production["server"] = seaweed.start(server.data_dir, ACCESS_KEY, SECRET_KEY, s3_port=server.s3_port)
    _expect_exact_rows(production["truths"])
    proc = _civic(production["env"], "refresh", "--years", "2024")
    out = proc.communicate(timeout=900)[0]
    assert proc.returncode == 0, out[-3000:]
    _expect_exact_rows(production["truths"])


def test_a_transient_s3_outage_is_retried(production):
    server = production["server"]
    server.stop()
    # the S3 client's own retries (lake/s3_retry.py) would ride out a short outage: with
    # two attempts it outlasts them, and Dagster's step retry is what this test watches
    env = {**production["env"], "PYTHONUNBUFFERED": "1", "AWS_MAX_ATTEMPTS": "2"}
    proc = _civic(env, "refresh", "--years", "2023")
    lines: list[str] = []
    # S3 comes back a few seconds after the refresh first needs it: the first attempt of
    # that step fails, its retry succeeds.
    for line in proc.stdout:
        lines.append(line)
        if "raw.services FY2023: loading" in line:
            time.sleep(4)
            production["server"] = seaweed.start(server.data_dir, ACCESS_KEY, SECRET_KEY, s3_port=server.s3_port)
            break
    out = "".join(lines) + proc.communicate(timeout=900)[0]
    assert proc.returncode == 0, out[-3000:]
    assert "Retried after transient errors" in out
    _expect_exact_rows(production["truths"], years=(2023,))


def test_a_contract_failure_is_not_retried(production):
    landing = Path(production["env"]["CIVIC_HOME"]) / "landing" / "queue_events" / "fy=2023"
    broken = landing / "zz-broken.parquet"
    broken.write_bytes(b"not parquet at all")
    try:
        proc = _civic(production["env"], "refresh", "--years", "2023")
        out = proc.communicate(timeout=900)[0]
    finally:
        broken.unlink()
    assert proc.returncode == 1
    assert "zz-broken.parquet" in out
    assert "Retried after transient errors" not in out
    _expect_exact_rows(production["truths"], years=(2023,))
