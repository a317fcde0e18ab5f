"""End to end: raw Iceberg tables -> dbt build (staging, intermediate, marts) -> mart rows.

The raw tables are small hand-made Arrow tables following docs/raw_tables.md, written
with pyiceberg into a temporary CIVIC_HOME (partitioned by identity(fiscal_year)). The
dbt project is built for one fiscal year at a time, as the orchestrator does, and the
mart values are compared with values computed by hand (see the comments on each
expected row).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from pyiceberg.expressions import EqualTo
from pyiceberg.transforms import IdentityTransform

from lake.catalog import open_catalog
from lake.settings import load_settings

pytestmark = pytest.mark.filterwarnings("ignore:Delete operation did not match")

REPO = Path(__file__).resolve().parents[1]
PROJECT = REPO / "dbt_project"
MART = "marts.service_channel_kpis"

# --------------------------------------------------------------------------------------
# helpers: raw Iceberg tables
# --------------------------------------------------------------------------------------

TS = pa.timestamp("us")

SCHEMAS: dict[str, pa.Schema] = {
    "services": pa.schema(
        [
            ("service_id", pa.string()),
            ("name", pa.string()),
            ("priority_area", pa.string()),
            ("cofog_division", pa.string()),
            ("agency", pa.string()),
            ("channels", pa.string()),
            ("target_wait_minutes", pa.float64()),
            ("target_days_to_complete", pa.float64()),
            ("fee", pa.float64()),
            ("programme_id", pa.string()),
        ]
    ),
    "queue_events": pa.schema(
        [
            ("ticket_id", pa.string()),
            ("site_id", pa.string()),
            ("service_id", pa.string()),
            ("issued_at", TS),
            ("called_at", TS),
            ("completed_at", TS),
            ("outcome", pa.string()),
            ("device_id", pa.string()),
        ]
    ),
    "web_sessions": pa.schema(
        [
            ("session_id", pa.string()),
            ("service_id", pa.string()),
            ("started_at", TS),
            ("ended_at", TS),
            ("completed", pa.bool_()),
            ("last_step", pa.string()),
            ("fee_amount", pa.float64()),
            ("device_category", pa.string()),
            ("channel_group", pa.string()),
        ]
    ),
    "survey_responses": pa.schema(
        [
            ("response_id", pa.string()),
            ("service_id", pa.string()),
            ("channel", pa.string()),
            ("responded_at", TS),
            ("satisfaction", pa.int32()),
            ("nps", pa.int32()),
            ("perceived_wait_minutes", pa.float64()),
            ("respondent_key", pa.string()),
        ]
    ),
    "service_requests": pa.schema(
        [
            ("request_id", pa.string()),
            ("service_id", pa.string()),
            ("channel", pa.string()),
            ("requested_at", TS),
            ("closed_at", TS),
            ("expected_at", TS),
            ("status", pa.string()),
            ("agency", pa.string()),
            ("location", pa.string()),
            ("area", pa.string()),
        ]
    ),
    "ledger_entries": pa.schema(
        [
            ("entry_id", pa.string()),
            ("programme_id", pa.string()),
            ("service_id", pa.string()),
            ("cost_centre", pa.string()),
            ("economic_class", pa.string()),
            ("cofog_division", pa.string()),
            ("channel", pa.string()),
            ("phase", pa.string()),
            ("amount", pa.float64()),
            ("currency", pa.string()),
        ]
    ),
}

INGESTION_COLUMNS = [
    ("fiscal_year", pa.int32()),
    ("_load_id", pa.string()),
    ("_source", pa.string()),
    ("_source_file", pa.string()),
]


def raw_schema(entity: str) -> pa.Schema:
    schema = SCHEMAS[entity]
    for name, type_ in INGESTION_COLUMNS:
        if name not in schema.names:
            schema = schema.append(pa.field(name, type_))
    return schema


def write_raw_year(catalog, entity: str, fiscal_year: int, rows: list[dict]) -> None:
    """Replace one fiscal year of raw.<entity> (creating the table on first use).

    The table is partitioned by identity(fiscal_year); each year is one overwrite
    commit, as the lake's loader does it.
    """
    schema = raw_schema(entity)
    identifier = f"raw.{entity}"
    if not catalog.table_exists(identifier):
        table = catalog.create_table(identifier, schema=schema)
        with table.update_spec() as spec:
            spec.add_field("fiscal_year", IdentityTransform(), "fiscal_year")
    table = catalog.load_table(identifier)
    load_id = f"test-{entity}-{fiscal_year}"
    full_rows = [
        {**row, "fiscal_year": fiscal_year, "_load_id": load_id, "_source_file": f"{entity}/fy={fiscal_year}/x"}
        for row in rows
    ]
    data = pa.Table.from_pylist(full_rows, schema=schema)
    table.overwrite(data, overwrite_filter=EqualTo("fiscal_year", fiscal_year))


def at(day: int, hour: int = 9, minute: int = 0, year: int = 2024) -> datetime:
    return datetime(year, 3, day, hour, minute)


def ticket(tid, service, issued, wait, outcome, year=2024):
    called = None if wait is None else issued + timedelta(minutes=wait)
    completed = None if called is None else called + timedelta(minutes=10)
    return {
        "ticket_id": tid,
        "site_id": "SITE-1",
        "service_id": service,
        "issued_at": issued,
        "called_at": called,
        "completed_at": completed,
        "outcome": outcome,
        "device_id": "DEV-1",
    }


def session(sid, service, completed, last_step, year=2024):
    start = at(5, year=year)
    return {
        "session_id": sid,
        "service_id": service,
        "started_at": start,
        "ended_at": start + timedelta(minutes=7),
        "completed": completed,
        "last_step": last_step,
        "fee_amount": 50.0 if completed else None,
        "device_category": "desktop",
        "channel_group": "direct",
    }


def request(rid, service, channel, status, year=2024):
    requested = at(6, year=year)
    return {
        "request_id": rid,
        "service_id": service,
        "channel": channel,
        "requested_at": requested,
        "closed_at": requested + timedelta(days=2) if status == "closed" else None,
        "expected_at": requested + timedelta(days=5),
        "status": status,
        "agency": "AG",
        "location": "X",
        "area": "W1",
    }


def response(rid, service, channel, satisfaction, year=2024):
    return {
        "response_id": rid,
        "service_id": service,
        "channel": channel,
        "responded_at": at(7, year=year),
        "satisfaction": satisfaction,
        "nps": None,
        "perceived_wait_minutes": None,
        "respondent_key": f"hmac-{rid}",
    }


def entry(eid, service, cost_centre, channel, amount, phase="executed"):
    return {
        "entry_id": eid,
        "programme_id": "P1",
        "service_id": service,
        "cost_centre": cost_centre,
        "economic_class": "operating",
        "channel": channel,
        "phase": phase,
        "amount": amount,
        "currency": "CAD",
    }


def service(sid, name, area, channels, target_wait):
    return {
        "service_id": sid,
        "name": name,
        "priority_area": area,
        "cofog_division": "03",
        "agency": "AG",
        "channels": channels,
        "target_wait_minutes": target_wait,
        "target_days_to_complete": 10.0,
        "fee": 50.0,
    }


def fy2024() -> dict[str, list[dict]]:
    """Fiscal year 2024 (see the expected rows in test_dbt_build_per_fiscal_year)."""
    return {
        "services": [
            service("S1", "Licence renewal", "licences", "online;phone;in_person", 15.0),
            service("S2", "Building permit", "permits", "in_person;mail", 20.0),  # no online, no phone
            service("S3", "Pothole report", "public_works", "phone", None),  # no activity at all
        ],
        "web_sessions": [
            session("W1", "S1", True, "confirmation"),
            session("W2", "S1", True, "confirmation"),
            session("W3", "S1", False, "details"),
            session("W4", "S1", False, "start"),  # bounce
            session("W5", "S1", False, "start"),  # bounce
            session("W6", "S1", False, "payment"),
        ],
        "queue_events": [
            ticket("Q1", "S1", at(4, 9, 0), 5, "served"),
            ticket("Q2", "S1", at(4, 9, 0), 15, "served"),  # exactly at the standard
            ticket("Q3", "S1", at(4, 9, 0), 30, "served"),
            ticket("Q4", "S1", at(4, 9, 0), 60, "served"),
            ticket("Q5", "S1", at(4, 9, 0), 3, "no_show"),  # not served: no wait stats
            ticket("Q6", "S1", at(4, 9, 0), 40, "transferred"),
            ticket("Q7", "S1", at(4, 9, 0), None, "no_show"),  # left before being called
            ticket("Q8", "S2", at(4, 10, 0), 12, "served"),
            ticket("Q9", "S2", at(4, 10, 0), 18, "served"),
        ],
        "service_requests": [
            request("R1", "S1", "phone", "closed"),
            request("R2", "S1", "phone", "closed"),
            request("R3", "S1", "phone", "open"),  # not completed
            request("R4", "S1", "online", "closed"),  # the web session is the transaction
            request("R5", "S1", "mobile", "closed"),  # a digital channel S1 does not list
            request("R6", "S1", "in_person", "closed"),  # the queue ticket is the transaction
            request("R7", "S2", "mail", "open"),  # S2 mail: 0 transactions
        ],
        "survey_responses": [
            response("V1", "S1", "online", 5),
            response("V2", "S1", "online", 4),
            response("V3", "S1", "online", None),  # don't know
            response("V4", "S1", "online", 2),
            response("V5", "S1", "in_person", 3),
            response("V6", "S1", "in_person", 1),
            response("V7", "S1", None, 5),  # no channel: counts for the service total only
        ],
        "ledger_entries": [
            entry("E1", "S1", "CC-S1", None, 900.0),  # common to S1's channels
            entry("E2", "S1", "CC-S1-WEB", "online", 100.0),
            entry("E3", "S1", "CC-S1", None, 5000.0, phase="approved"),  # not executed
            entry("E4", None, "SHARED-IT", "online", 600.0),
            entry("E5", None, "SHARED-CONTACT-CENTRE", "phone", 300.0),
            entry("E6", None, "SHARED-BUILDINGS", "in_person", 1200.0),
            entry("E7", "S2", "CC-S2-MAIL", "mail", 50.0),
            entry("E8", "S2", "CC-S2", None, 200.0),
            entry("E9", "S3", "CC-S3", None, 70.0),
        ],
    }


def fy2025() -> dict[str, list[dict]]:
    return {
        "services": [
            service("S1", "Licence renewal (2025)", "licences", "online;phone;in_person", 15.0),
        ],
        "web_sessions": [session("W101", "S1", True, "confirmation", year=2025)],
        "queue_events": [ticket("Q101", "S1", at(4, 9, 0, year=2025), 8, "served", year=2025)],
        "service_requests": [],
        "survey_responses": [response("V101", "S1", "online", 4, year=2025)],
        "ledger_entries": [entry("E101", "S1", "CC-S1", None, 100.0)],
    }


def write_year(catalog, fiscal_year: int, data: dict[str, list[dict]]) -> None:
    for entity in SCHEMAS:
        write_raw_year(catalog, entity, fiscal_year, data.get(entity, []))


# --------------------------------------------------------------------------------------
# helpers: dbt
# --------------------------------------------------------------------------------------


def dbt(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    dbt_exe = Path(sys.executable).with_name("dbt")
    cmd = [str(dbt_exe), *args, "--project-dir", str(PROJECT), "--profiles-dir", str(PROJECT)]
    return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)


def dbt_build(env: dict[str, str], years: list[int]) -> subprocess.CompletedProcess:
    result = dbt(env, "build", "--vars", json.dumps({"fiscal_years": years}))
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    return result


def run_results(target: Path) -> list[dict]:
    return json.loads((target / "run_results.json").read_text())["results"]


MART_COLUMNS = [
    ("fiscal_year", "INTEGER"),
    ("service_id", "VARCHAR"),
    ("channel", "VARCHAR"),
    ("service_name", "VARCHAR"),
    ("priority_area", "VARCHAR"),
    ("cofog_division", "VARCHAR"),
    ("agency", "VARCHAR"),
    ("is_channel_offered", "BOOLEAN"),
    ("transactions", "BIGINT"),
    ("started", "BIGINT"),
    ("completions", "BIGINT"),
    ("cost", "DOUBLE"),
    ("cost_per_transaction", "DOUBLE"),
    ("digital_take_up", "DOUBLE"),
    ("completion_rate", "DOUBLE"),
    ("responses", "BIGINT"),
    ("responses_dont_know", "BIGINT"),
    ("responses_score_1", "BIGINT"),
    ("responses_score_2", "BIGINT"),
    ("responses_score_3", "BIGINT"),
    ("responses_score_4", "BIGINT"),
    ("responses_score_5", "BIGINT"),
    ("satisfaction_top2_pct", "DOUBLE"),
    ("satisfaction_score", "DOUBLE"),
    ("waits_measured", "BIGINT"),
    ("mean_wait_minutes", "DOUBLE"),
    ("median_wait_minutes", "DOUBLE"),
    ("p90_wait_minutes", "DOUBLE"),
    ("target_wait_minutes", "DOUBLE"),
    ("share_within_wait_standard", "DOUBLE"),
    ("standards_applicable", "BIGINT"),
    ("standards_met", "BIGINT"),
    ("programme_spending", "DOUBLE"),
    ("programme_spending_per_transaction", "DOUBLE"),
    ("cost_basis", "VARCHAR"),
    ("volumes_not_reported", "VARCHAR"),
    ("satisfaction_top2_share", "DOUBLE"),
    ("fee_revenue", "DOUBLE"),
    ("fee_revenue_per_transaction", "DOUBLE"),
    ("net_cost", "DOUBLE"),
    ("net_cost_per_transaction", "DOUBLE"),
]


def mart_columns(duckdb_path: Path) -> list[tuple[str, str]]:
    con = duckdb.connect(str(duckdb_path), read_only=True)
    try:
        return [(r[0], r[1]) for r in con.execute(f"describe {duckdb_path.stem}.{MART}").fetchall()]
    finally:
        con.close()


def mart_rows(duckdb_path: Path) -> dict[tuple, dict]:
    con = duckdb.connect(str(duckdb_path), read_only=True)
    try:
        cur = con.execute(f"select * from {duckdb_path.stem}.{MART} order by all")
        names = [d[0] for d in cur.description]
        rows = [dict(zip(names, r)) for r in cur.fetchall()]
    finally:
        con.close()
    return {(r["fiscal_year"], r["service_id"], r["channel"]): r for r in rows}


@pytest.fixture()
def civic_env(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "civic"
    target = tmp_path / "dbt_target"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CIVIC_", "DBT_", "AWS_"))}
    env.update(
        CIVIC_HOME=str(home),
        CIVIC_DUCKDB=str(tmp_path / "lakehouse.duckdb"),
        DBT_TARGET_PATH=str(target),
        DBT_LOG_PATH=str(tmp_path / "dbt_logs"),
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
        DBT_PARTIAL_PARSE="false",
    )
    return env


# --------------------------------------------------------------------------------------
# the test
# --------------------------------------------------------------------------------------

# Hand-computed mart rows for fiscal year 2024 (None = null).
#
# Transactions: S1 online 2 (W1, W2), in_person 4 (Q1-Q4 served), phone 2 (R1, R2),
# mobile 1 (R5) = 9; S2 in_person 2, mail 0 = 2; S3 0.
# Costs (executed only, E3 ignored):
#   SHARED-IT 600 by online tx: S1 2/2 -> 600.   SHARED-CONTACT-CENTRE 300 by phone tx:
#   S1 2/2 -> 300.  SHARED-BUILDINGS 1200 by in-person tx: S1 4/6 -> 800, S2 2/6 -> 400.
#   S1 common 900 by S1 volume share: online 2/9 200, in_person 4/9 400, phone 2/9 200,
#   mobile 1/9 100.  S1 online = 200 + 100 + 600 = 900 (CPT 450); in_person 400 + 800 =
#   1200 (300); phone 200 + 300 = 500 (250); mobile 100 (100); all 2700 / 9 = 300.
#   S2 common 200 -> in_person (2/2); in_person 200 + 400 = 600 (300); mail 50 / 0 tx ->
#   CPT null; all 650 / 2 = 325.  S3: 70 on `all` only, 0 tx -> CPT null.
# Digital take-up: S1 (2 + 1) / 9; S2 0 / 2 = 0; S3 null (0 tx).
# Completion (online): S1 started = 6 - 2 bounces = 4, completed 2 -> 0.5 (also on all).
# Satisfaction S1 online 5, 4, 2 (don't know excluded): top2 2/3, score (11/3 - 1)/4;
#   in_person 3, 1: top2 0, score (2 - 1)/4 = 0.25; all 5,4,2,3,1,5: top2 3/6,
#   score (20/6 - 1)/4.
# Waits (served tickets): S1 5, 15, 30, 60: mean 27.5, median 22.5, p90 (continuous)
#   30 + 0.7 * 30 = 51, within 15 min: 2/4; S2 12, 18: mean 15, median 15,
#   p90 12 + 0.9 * 6 = 17.4, within 20: 1.0.
EXPECTED_2024 = {
    ("S1", "online"): dict(
        transactions=2,
        started=4,
        cost=900.0,
        cost_per_transaction=450.0,
        digital_take_up=None,
        completion_rate=0.5,
        responses=3,
        satisfaction_top2_pct=2 / 3,
        satisfaction_score=(11 / 3 - 1) / 4,
        mean_wait_minutes=None,
        share_within_wait_standard=None,
    ),
    ("S1", "in_person"): dict(
        transactions=4,
        started=None,
        cost=1200.0,
        cost_per_transaction=300.0,
        digital_take_up=None,
        completion_rate=None,
        responses=2,
        satisfaction_top2_pct=0.0,
        satisfaction_score=0.25,
        mean_wait_minutes=27.5,
        median_wait_minutes=22.5,
        p90_wait_minutes=51.0,
        share_within_wait_standard=0.5,
    ),
    ("S1", "phone"): dict(
        transactions=2,
        cost=500.0,
        cost_per_transaction=250.0,
        responses=0,
        satisfaction_top2_pct=None,
        mean_wait_minutes=None,
    ),
    ("S1", "mobile"): dict(transactions=1, cost=100.0, cost_per_transaction=100.0, is_channel_offered=False),
    ("S1", "all"): dict(
        transactions=9,
        started=4,
        cost=2700.0,
        cost_per_transaction=300.0,
        digital_take_up=3 / 9,
        completion_rate=0.5,
        responses=6,
        responses_dont_know=1,
        responses_score_5=2,
        satisfaction_top2_pct=0.5,
        satisfaction_score=(20 / 6 - 1) / 4,
        mean_wait_minutes=27.5,
        median_wait_minutes=22.5,
        p90_wait_minutes=51.0,
        share_within_wait_standard=0.5,
        service_name="Licence renewal",
        priority_area="licences",
    ),
    ("S2", "in_person"): dict(
        transactions=2,
        cost=600.0,
        cost_per_transaction=300.0,
        mean_wait_minutes=15.0,
        median_wait_minutes=15.0,
        p90_wait_minutes=17.4,
        share_within_wait_standard=1.0,
    ),
    ("S2", "mail"): dict(transactions=0, cost=50.0, cost_per_transaction=None, is_channel_offered=True),
    ("S2", "all"): dict(
        transactions=2,
        cost=650.0,
        cost_per_transaction=325.0,
        digital_take_up=0.0,
        completion_rate=None,
        responses=0,
        satisfaction_score=None,
        share_within_wait_standard=1.0,
    ),
    ("S3", "phone"): dict(transactions=0, cost=0.0, cost_per_transaction=None),
    ("S3", "all"): dict(
        transactions=0,
        cost=70.0,
        cost_per_transaction=None,
        digital_take_up=None,
        mean_wait_minutes=None,
        share_within_wait_standard=None,
    ),
}


def assert_row(actual: dict, expected: dict, key) -> None:
    for column, value in expected.items():
        got = actual[column]
        if isinstance(value, float):
            assert got == pytest.approx(value, rel=1e-12), (key, column, got, value)
        else:
            assert got == value, (key, column, got, value)


def test_dbt_build_per_fiscal_year(civic_env: dict[str, str], tmp_path: Path) -> None:
    settings = load_settings(civic_env)
    catalog = open_catalog(settings)
    write_year(catalog, 2024, fy2024())
    write_year(catalog, 2025, fy2025())
    duckdb_path = Path(civic_env["CIVIC_DUCKDB"])
    target = Path(civic_env["DBT_TARGET_PATH"])

    # --- build 2024 only ------------------------------------------------------------
    dbt_build(civic_env, [2024])
    results = run_results(target)
    assert results and all(r["status"] in ("success", "pass") for r in results), [
        (r["unique_id"], r["status"]) for r in results if r["status"] not in ("success", "pass")
    ]
    unit_tests = [r for r in results if r["unique_id"].startswith("unit_test.")]
    assert len(unit_tests) >= 10 and all(r["status"] == "pass" for r in unit_tests)

    assert {r["unique_id"].split(".")[-1] for r in results} >= {
        "assert_costs_add_up_to_executed_ledger",
        "assert_mart_channel_rows_add_up_to_service_total",
        "assert_mart_has_every_selected_year",
    }
    assert mart_columns(duckdb_path) == MART_COLUMNS  # the BI interface (contract)

    rows = mart_rows(duckdb_path)
    assert {k[0] for k in rows} == {2024}, "only the selected fiscal year is built"
    assert set(rows) == {(2024, s, c) for (s, c) in EXPECTED_2024}, sorted(rows)
    for (service_id, channel), expected in EXPECTED_2024.items():
        assert_row(rows[(2024, service_id, channel)], expected, (service_id, channel))
    # channel rows carry no take-up; only online and all carry a completion rate
    for (_, _, channel), row in rows.items():
        if channel != "all":
            assert row["digital_take_up"] is None
        if channel not in ("online", "all"):
            assert row["completion_rate"] is None
        if row["completion_rate"] is not None:
            assert 0 <= row["completion_rate"] <= 1
    rows_2024 = rows

    # --- build 2025: 2024 rows are kept exactly --------------------------------------
    dbt_build(civic_env, [2025])
    rows = mart_rows(duckdb_path)
    assert {k[0] for k in rows} == {2024, 2025}
    assert {k: v for k, v in rows.items() if k[0] == 2024} == rows_2024
    s1_2025 = rows[(2025, "S1", "all")]
    assert s1_2025["service_name"] == "Licence renewal (2025)"  # the 2025 snapshot
    assert s1_2025["transactions"] == 2 and s1_2025["cost"] == pytest.approx(100.0)
    assert s1_2025["cost_per_transaction"] == pytest.approx(50.0)
    assert s1_2025["digital_take_up"] == pytest.approx(0.5)
    assert {k for k in rows if k[0] == 2025} == {(2025, "S1", c) for c in ("online", "phone", "in_person", "all")}

    # --- rebuild 2025 after a correction: replaces exactly the 2025 rows -----------------
    corrected = fy2025()
    corrected["ledger_entries"] = [entry("E101", "S1", "CC-S1", None, 300.0)]
    write_raw_year(catalog, "ledger_entries", 2025, corrected["ledger_entries"])
    dbt_build(civic_env, [2025])
    rows = mart_rows(duckdb_path)
    assert {k: v for k, v in rows.items() if k[0] == 2024} == rows_2024
    assert rows[(2025, "S1", "all")]["cost"] == pytest.approx(300.0)
    assert len([k for k in rows if k[0] == 2025]) == 4


def _generic_test_sql(name: str, **kwargs) -> str:
    """The SQL of a generic test in tests/generic, rendered for a plain DuckDB table."""
    import re

    import jinja2

    text = (Path(__file__).parent.parent / "dbt_project" / "tests" / "generic" / f"{name}.sql").read_text()
    body = re.search(r"\{%\s*test\s+\w+\(.*?\)\s*%\}(.*)\{%\s*endtest\s*%\}", text, re.S).group(1)
    return jinja2.Template(body).render(**kwargs)


def test_unique_id_finds_exactly_the_repeated_ids() -> None:
    con = duckdb.connect()
    con.execute(
        "create table t as select 'T-' || lpad(i::varchar, 9, '0') as id from range(200000) r(i) "
        "union all select 'T-000000007' union all select 'T-000000007' union all select 'T-000123456' "
        "union all select null union all select null"
    )
    sql = _generic_test_sql("unique_id", model="t", column_name="id")
    assert sorted(con.execute(sql).fetchall()) == [("T-000000007", 3), ("T-000123456", 2)]
    con.execute("delete from t where id in ('T-000000007', 'T-000123456')")
    assert con.execute(sql).fetchall() == []  # distinct ids and repeated nulls pass
