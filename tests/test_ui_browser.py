"""The Dagster UI in a real browser: headless Chromium (Debian's, driven by Playwright)
against `dagster dev` on 127.0.0.1 with the project's definitions. The asset graph shows
the raw, staging and mart assets and their fiscal-year partitions; a backfill of two
fiscal years is launched through the UI's GraphQL API (what the Materialize dialog
sends) and completes. Screenshots go to artifacts/ui/."""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from lake.settings import load_settings
from orchestration.services.instance import prepare_dagster_home
from orchestration.services.seaweed import stop_pid

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts" / "ui"
LOCATION = "orchestration.definitions"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Dagster:
    def __init__(self, port: int):
        self.url = f"http://127.0.0.1:{port}"

    def gql(self, query: str, variables: dict | None = None) -> dict:
        req = urllib.request.Request(
            f"{self.url}/graphql",
            data=json.dumps({"query": query, "variables": variables or {}}).encode(),
            headers={"Content-Type": "application/json"},
        )
        return json.loads(urllib.request.urlopen(req, timeout=30).read())


@pytest.fixture
def dagster_dev(civic_home):
    from ingestion.demo import generate_demo

    generate_demo(civic_home / "landing", years=[2023, 2024], size=0.1)
    prepare_dagster_home(load_settings())
    port = _free_port()
    log = open(civic_home / "dagster-dev.log", "wb")
    proc = subprocess.Popen(
        [str(Path(sys.executable).with_name("dagster")), "dev", "-m", LOCATION, "-h", "127.0.0.1", "-p", str(port)],
        env={**os.environ},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    dagster = Dagster(port)
    try:
        deadline = time.monotonic() + 180
        while True:
            assert proc.poll() is None, (civic_home / "dagster-dev.log").read_text()[-3000:]
            try:
                body = dagster.gql(
                    "{ workspaceOrError { ... on Workspace { locationEntries { locationOrLoadError { __typename } } } } }"
                )
                states = [e["locationOrLoadError"] for e in body["data"]["workspaceOrError"]["locationEntries"]]
                if states and all(states):
                    assert [s["__typename"] for s in states] == ["RepositoryLocation"], states
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "dagster dev did not load the code location"
            time.sleep(1)
        yield dagster
    finally:
        stop_pid(proc.pid, timeout=30)
        log.close()


def test_the_ui_shows_the_assets_and_backfills_fiscal_years(dagster_dev):
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "Chromium is missing: `make test` installs Debian's chromium package"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    url = dagster_dev.url
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1600, "height": 1000})

        def visit(path: str, expect: str):
            page.goto(f"{url}{path}", wait_until="networkidle")
            skip = page.get_by_role("button", name="Skip")  # a first-visit newsletter dialog
            if skip.count():
                skip.first.click()
            try:
                page.wait_for_selector(f"text={expect}", timeout=60_000)
            finally:  # what the page said, to read when an assertion fails
                (ARTIFACTS / "last-page.txt").write_text(page.inner_text("body"))
            return page.inner_text("body")

        lineage = visit("/asset-groups", "staging")
        for group in ("raw", "staging", "intermediate", "marts"):
            assert group in lineage
        page.screenshot(path=str(ARTIFACTS / "asset-lineage.png"))
        visit("/assets", "service_channel_kpis")
        # the catalog list is virtualised: the raw tables are checked under their prefix
        raw = visit("/assets/raw", "queue_events")
        for table in ("services", "ledger_entries", "service_transactions", "kpi_observations"):
            assert table in raw
        assert "stg_queue_events" in visit("/assets/staging/stg_queue_events", "stg_queue_events")
        partitions = visit("/assets/raw/queue_events?view=partitions", "2024")
        for year in ("2021", "2022", "2023", "2024", "2025"):
            assert year in partitions
        page.screenshot(path=str(ARTIFACTS / "raw-queue-events-partitions.png"))

        keys = [
            node["assetKey"]["path"]
            for node in dagster_dev.gql("{ assetNodes { assetKey { path } } }")["data"]["assetNodes"]
        ]
        launched = dagster_dev.gql(
            """mutation($p: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $p) {
                 __typename ... on LaunchBackfillSuccess { backfillId } ... on PythonError { message } } }""",
            {
                "p": {
                    "partitionNames": ["2023", "2024"],
                    "assetSelection": [{"path": k} for k in keys],
                    "fromFailure": False,
                }
            },
        )["data"]["launchPartitionBackfill"]
        assert launched["__typename"] == "LaunchBackfillSuccess", launched
        backfill_id = launched["backfillId"]
        deadline = time.monotonic() + 480
        while True:
            status = dagster_dev.gql(
                "query($id: String!) { partitionBackfillOrError(backfillId: $id) { ... on PartitionBackfill { status } } }",
                {"id": backfill_id},
            )["data"]["partitionBackfillOrError"]["status"]
            if status not in ("REQUESTED", "CANCELING"):
                break
            assert time.monotonic() < deadline, f"backfill {backfill_id} still {status}"
            time.sleep(3)
        assert status in ("COMPLETED", "COMPLETED_SUCCESS"), status
        runs = dagster_dev.gql(
            """query($f: RunsFilter) { runsOrError(filter: $f) { ... on Runs { results { runId status } } } }""",
            {"f": {"tags": [{"key": "dagster/backfill", "value": backfill_id}]}},
        )["data"]["runsOrError"]["results"]
        assert runs and all(r["status"] == "SUCCESS" for r in runs), runs
        assert "Success" in visit(f"/runs/{runs[0]['runId']}", "Success")
        page.screenshot(path=str(ARTIFACTS / "backfill-run.png"))
        after = visit("/assets/marts/service_channel_kpis?view=partitions", "Materialized (2)")
        assert "Materialized (2)" in after
        page.screenshot(path=str(ARTIFACTS / "marts-partitions-after-backfill.png"))

        # issue 17: `civic refresh` of two years is a backfill on the backfills page (the
        # daemon of `dagster dev` runs beside it and must launch nothing for it)
        from orchestration.cli import main

        assert main(["refresh", "--years", "2023:2024"]) == 0
        backfills = dagster_dev.gql(
            "{ partitionBackfillsOrError { ... on PartitionBackfills { results { id status title } } } }"
        )["data"]["partitionBackfillsOrError"]["results"]
        [cli] = [b for b in backfills if b["title"] and b["title"].startswith("civic refresh FY2023..FY2024")]
        assert cli["status"] == "COMPLETED_SUCCESS", cli
        cli_runs = dagster_dev.gql(
            """query($f: RunsFilter) { runsOrError(filter: $f) { ... on Runs { results { runId status } } } }""",
            {"f": {"tags": [{"key": "dagster/backfill", "value": cli["id"]}]}},
        )["data"]["runsOrError"]["results"]
        assert [r["status"] for r in cli_runs] == ["SUCCESS"], cli_runs  # ours alone, none from the daemon
        assert cli["id"] in visit("/overview/backfills", cli["id"])
        page.screenshot(path=str(ARTIFACTS / "backfills-page.png"))
        text = visit(f"/runs/b/{cli['id']}", cli["id"])
        # its partitions table (virtualised: the first rows are rendered) shows them done
        assert "Succeeded" in text and "100% completed" in text and "raw / services" in text, text[-3000:]
        page.screenshot(path=str(ARTIFACTS / "cli-backfill.png"))

        # each fiscal year's page shows its own counts (the generator's record of its rows)
        written = json.loads((settings_home() / "landing" / "demo_truths.json").read_text())["rows_written"]
        for year in ("2023", "2024"):
            own = written["queue_events"][year]
            text = visit(f"/assets/raw/queue_events?view=partitions&partition={year}", "received")
            assert shows(text, "received", own["total"]) and shows(text, "loaded", own["good"]), (
                year,
                own,
                text[-3000:],
            )
            page.screenshot(path=str(ARTIFACTS / f"raw-queue-events-{year}.png"))

        # the Iceberg mart's snapshot id, all its digits, and the dbt model's row count
        from pyiceberg.expressions import EqualTo

        from lake.catalog import open_catalog

        kpis = open_catalog(load_settings()).load_table("marts.service_channel_kpis")
        snapshot = str(kpis.current_snapshot().snapshot_id)  # FY2024's commit: the last of the run
        text = visit("/assets/iceberg/marts/service_channel_kpis?view=partitions&partition=2024", "snapshot_id")
        assert snapshot in text, (snapshot, text[-2000:])
        page.screenshot(path=str(ARTIFACTS / "iceberg-mart-snapshot.png"))
        rows = kpis.scan(row_filter=EqualTo("fiscal_year", 2024)).to_arrow().num_rows
        text = visit("/assets/marts/service_channel_kpis?view=partitions&partition=2024", "unique_id")
        assert shows(text, "(?:dagster/row_count|Row count)", rows), (rows, text[-3000:])
        page.screenshot(path=str(ARTIFACTS / "dbt-mart-row-count.png"))
        # and the column schema of the materialization (as built, read after dbt exits)
        assert re.search(r"dagster/column_schema\s*\[Show Table Schema\]", text), text[-3000:]
        browser.close()


def shows(text: str, label: str, value: int) -> bool:
    """The metadata entry `label` shows `value` (with or without thousands separators)."""
    number = f"(?:{re.escape(f'{value:,}')}|{value})"
    return re.search(rf"{label}\s*{number}(?!\d)", text) is not None


def settings_home() -> Path:
    return load_settings().home
