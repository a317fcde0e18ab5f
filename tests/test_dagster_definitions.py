"""The Dagster code location: it loads, its graph and partitions are what users rely on,
the yearly schedule asks for the fiscal year that just closed, and the webserver serves it."""

import datetime as dt
import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import dagster as dg
import pytest

from orchestration.services.seaweed import stop_pid


@pytest.fixture(scope="module")
def defs():
    from orchestration.definitions import defs

    return defs


def test_definitions_load(defs):
    dg.Definitions.validate_loadable(defs)


def test_asset_graph_has_raw_dbt_and_published_marts(defs):
    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    for entity in (
        "services",
        "queue_events",
        "web_sessions",
        "survey_responses",
        "service_requests",
        "ledger_entries",
    ):
        assert f"raw/{entity}" in keys
    assert {"staging/stg_queue_events", "marts/service_channel_kpis", "iceberg/marts/service_channel_kpis"} <= keys
    # one Iceberg publication per mart, on its dbt model, and the site after all of them
    marts = {k for k in keys if k.startswith("marts/")}
    assert {k for k in keys if k.startswith("iceberg/")} == {f"iceberg/{m}" for m in marts}
    graph = defs.resolve_asset_graph()
    mart = dg.AssetKey(["marts", "service_channel_kpis"])
    upstream = dg.AssetSelection.assets(mart).upstream().resolve(graph)
    assert dg.AssetKey(["raw", "queue_events"]) in upstream
    published = dg.AssetKey(["iceberg", "marts", "service_channel_kpis"])
    assert graph.get(published).parent_keys == {mart}
    assert dg.AssetKey(["report", "site"]) in graph.get(published).child_keys
    # the configured fiscal years (CIVIC_FISCAL_YEARS, default 2010:2030), whatever the clock
    keys = graph.get(mart).partitions_def.get_partition_keys(current_time=dt.datetime(2026, 6, 1))
    assert keys[:2] == ["2010", "2011"] and keys[-1] == "2030"


def test_row_accounting_checks_are_blocking(defs):
    raw = defs.resolve_assets_def(dg.AssetKey(["raw", "queue_events"]))
    specs = {spec.name: spec for spec in raw.check_specs}
    assert specs["row_accounting"].blocking is True
    assert specs["contract"].blocking is True


def test_yearly_schedule_refreshes_the_year_that_closed(defs):
    schedule = defs.resolve_schedule_def("yearly_refresh")
    assert schedule.cron_schedule == "0 2 1 3 *"
    ctx = dg.build_schedule_context(
        scheduled_execution_time=dt.datetime(2026, 3, 1, 2, 0), repository_def=defs.get_repository_def()
    )
    data = schedule.evaluate_tick(ctx)
    assert [r.partition_key for r in data.run_requests] == ["2025"]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_webserver_loads_the_code_location_without_errors(civic_home, tmp_path):
    port = _free_port()
    dagster_home = tmp_path / "dagster_home"
    dagster_home.mkdir()
    (dagster_home / "dagster.yaml").write_text((Path(__file__).parent.parent / "dagster.yaml").read_text())
    env = {**__import__("os").environ, "DAGSTER_HOME": str(dagster_home), "CIVIC_HOME": str(civic_home)}
    webserver = Path(sys.executable).with_name("dagster-webserver")
    proc = subprocess.Popen(
        [str(webserver), "-m", "orchestration.definitions", "-h", "127.0.0.1", "-p", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        query = {
            "query": "{ workspaceOrError { ... on Workspace { locationEntries { name locationOrLoadError { __typename ... on PythonError { message } } } } } }"
        }
        deadline = time.monotonic() + 120
        while True:
            try:
                req = urllib.request.Request(
                    f"http://127.0.0.1:{port}/graphql",
                    data=json.dumps(query).encode(),
                    headers={"Content-Type": "application/json"},
                )
                body = json.loads(urllib.request.urlopen(req, timeout=10).read())
                entries = body["data"]["workspaceOrError"]["locationEntries"]
                states = [e["locationOrLoadError"] for e in entries]
                if states and all(s is not None for s in states):
                    break
            except (OSError, KeyError, TypeError):
                pass
            assert proc.poll() is None, "the webserver exited"
            assert time.monotonic() < deadline, "the webserver did not load the code location in time"
            time.sleep(1)
        assert [s["__typename"] for s in states] == ["RepositoryLocation"], states
    finally:
        stop_pid(proc.pid)


def test_a_model_selected_without_its_intermediate_parents_is_refused(defs):
    from orchestration.defs.dbt.selection import refusal, unbuilt_intermediate_parents

    dbt_def = defs.resolve_assets_def(dg.AssetKey(["marts", "service_channel_kpis"]))
    deps = dbt_def.asset_deps
    models = {k for k in dbt_def.keys}
    assert unbuilt_intermediate_parents(models, deps) == set()  # a refresh selects every model
    mart = dg.AssetKey(["marts", "service_channel_kpis"])
    missing = unbuilt_intermediate_parents({mart}, deps)
    assert dg.AssetKey(["intermediate", "int_transactions"]) in missing
    assert all(k.path[0] == "intermediate" for k in missing)
    assert "intermediate/int_transactions" in refusal(missing)
    # a mart with every intermediate model above it (and staging views left out) can run
    above = dg.AssetSelection.assets(mart).upstream().resolve(defs.resolve_asset_graph())
    assert unbuilt_intermediate_parents({k for k in above if k in models}, deps) == set()


def test_plan_rebuild_loads_no_raw_table_and_builds_what_the_plan_reads(defs):
    """`civic plan --rebuild`: the scenarios, the plan's models and their publication; the
    intermediate models they read (never a model without its intermediate parents); no
    raw asset and no mart that does not depend on the plan."""
    from orchestration.defs.dbt.selection import unbuilt_intermediate_parents

    job = defs.resolve_job_def("plan_rebuild")
    selected = job.asset_layer.selected_asset_keys
    names = {k.to_user_string() for k in selected}
    assert {
        "reference/plan_scenarios",
        "marts/budget_plan",
        "marts/budget_plan_totals",
        "iceberg/marts/budget_plan",
        "iceberg/marts/budget_plan_totals",
    } <= names
    assert "iceberg/marts/service_channel_kpis" not in names
    assert not any(n.startswith("raw/") for n in names)
    assert "marts/service_channel_kpis" not in names
    deps = {k: defs.resolve_asset_graph().get(k).parent_keys for k in selected}
    assert unbuilt_intermediate_parents(set(selected), deps) == set()


def test_the_yearly_schedule_says_which_partition_it_runs_next():
    from contracts.fiscal_year import FiscalCalendar, FiscalYears
    from orchestration.defs.schedules import build_annual_schedule, next_refresh

    calendar = FiscalCalendar()
    assert next_refresh(calendar, dt.datetime(2026, 2, 28)) == (dt.datetime(2026, 3, 1, 2, 0), 2025)
    assert next_refresh(calendar, dt.datetime(2026, 3, 1, 2, 0)) == (dt.datetime(2027, 3, 1, 2, 0), 2026)
    july = FiscalCalendar(start_month=7)  # FY2026 ends in June 2026; refreshed on 1 September
    assert next_refresh(july, dt.datetime(2026, 8, 15)) == (dt.datetime(2026, 9, 1, 2, 0), 2026)
    job = dg.define_asset_job("j", selection=dg.AssetSelection.all())
    schedule = build_annual_schedule(job, calendar, FiscalYears(2010, 2030), now=dt.datetime(2026, 6, 1))
    assert schedule.metadata["next_partition"].value == "2026"
    assert "Next tick 2027-03-01 02:00: FY2026, partition 2026." in schedule.description
