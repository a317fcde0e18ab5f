"""The marts computed from the aggregated published sources (not from events): the
Canadian service inventory gives transactions per channel, digital take-up,
service-standard performance and a cost per transaction from programme spending; the UK
OPG feed gives its published satisfaction beside the one recomputed from its counts; the
CA DMV time series gives waits per office. Expected values are computed here from the
files with the csv/json modules, not by the code under test."""

from __future__ import annotations

import csv
import json
import os
import statistics
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest
from conftest import REALDATA, use_home

from lake.catalog import open_catalog
from lake.marts_query import run_query
from lake.settings import load_settings
from orchestration.load.flow import ingest_feed

REPO = Path(__file__).resolve().parents[1]
GC = REALDATA / "canada_gc_service_inventory"
CHANNEL_COLUMNS = {
    "online": "num_applications_online",
    "phone": "num_applications_by_phone",
    "in_person": "num_applications_in_person",
    "mail": "num_applications_by_mail",
    "email": "num_applications_by_email",
    "fax": "num_applications_by_fax",
    "other": "num_applications_by_other",
}


@pytest.fixture(scope="module")
def built_lake(tmp_path_factory):
    home = tmp_path_factory.mktemp("published") / "civic"
    with pytest.MonkeyPatch.context() as mp:
        use_home(mp, home)
        settings = load_settings()
        catalog = open_catalog(settings)
        for kind, location in (
            ("gc_service_inventory", GC),
            ("uk_opg", REALDATA / "uk_opg_service_kpis"),
            ("ca_dmv_csv", REALDATA / "ca_dmv_queue_feed"),
        ):
            records = ingest_feed(settings, catalog, kind, str(location))
            assert all(r.received == r.loaded + r.quarantined for r in records)
        env = {k: v for k, v in os.environ.items() if not k.startswith("DBT_")}
        env.update(
            DBT_TARGET_PATH=str(home.parent / "target"),
            DBT_LOG_PATH=str(home.parent / "logs"),
            DBT_SEND_ANONYMOUS_USAGE_STATS="false",
        )
        dbt = Path(sys.executable).with_name("dbt")
        done = subprocess.run(
            [
                str(dbt),
                "build",
                "--project-dir",
                str(REPO / "dbt_project"),
                "--profiles-dir",
                str(REPO / "dbt_project"),
                "--exclude-resource-type",
                "unit_test",
            ],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert done.returncode == 0, done.stdout[-5000:]
        yield settings


def query(settings, sql: str) -> list[dict]:
    return run_query(settings.duckdb_path, sql).records()


def _number(text: str) -> float | None:
    try:
        return float(text.replace(",", ""))
    except ValueError:
        return None


def _si_2024() -> list[dict]:
    with (GC / "si_2024.csv").open(encoding="utf-8-sig", newline="") as f:
        return [r for r in csv.DictReader(f) if r["fiscal_yr"] == "2023-2024"]


def _programmes(row: dict) -> list[str]:
    return [p.strip() for p in row["program_id"].replace(";", ",").split(",") if p.strip()]


def test_inventory_volumes_are_the_transactions_per_channel_and_give_take_up(built_lake):
    kpis = {
        (r["service_id"], r["channel"]): r
        for r in query(built_lake, "select * from marts.service_channel_kpis where fiscal_year = 2024")
    }
    services = _si_2024()
    checked = unknown_take_up = 0
    for row in services:
        volumes = {ch: _number(row[col]) for ch, col in CHANNEL_COLUMNS.items()}
        total = sum(v for v in volumes.values() if v is not None)
        # ND (not collected) and blank cells are unknown volumes; NA (the channel cannot
        # be used) is a known none
        unknown = sorted(ch for ch, col in CHANNEL_COLUMNS.items() if row[col].strip().upper() in ("ND", ""))
        if row["service_id"] == "SRV02975":  # listed twice in the file
            continue
        for channel, volume in volumes.items():
            if volume:
                assert kpis[(row["service_id"], channel)]["transactions"] == round(volume)
        for channel in unknown:
            assert kpis[(row["service_id"], channel)]["transactions"] is None  # never 0
        everything = kpis[(row["service_id"], "all")]
        assert everything["transactions"] == round(total)
        assert everything["volumes_not_reported"] == (";".join(unknown) or None)
        if unknown:
            assert everything["digital_take_up"] is None
            unknown_take_up += 1
        elif total > 0:
            assert everything["digital_take_up"] == pytest.approx((volumes["online"] or 0) / total)
        checked += 1
    assert checked > 1700
    # the 94 services whose online cell is ND, among others, have no take-up rather than 0
    assert unknown_take_up >= sum(r["num_applications_online"].strip() == "ND" for r in services) - 1 > 90


def test_standard_performance_is_recomputed_by_the_rule(built_lake):
    expected: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    with (GC / "ss_2024.csv").open(encoding="utf-8-sig", newline="") as f:
        for row in csv.DictReader(f):
            if not any(c.isdigit() for c in row["service_standard_id"]):
                continue  # placeholder ids (NA, Not Available, ...) are quarantined
            target, met, total = (_number(row[c]) for c in ("target", "volume_meeting_target", "total_volume"))
            if target and target > 1:
                target /= 100  # a target given in percent
            if target and met is not None and total:
                expected[row["service_id"]][0] += 1
                expected[row["service_id"]][1] += met / total >= target
    rows = {
        r["service_id"]: r
        for r in query(
            built_lake,
            "select service_id, standards_applicable, standards_met from marts.service_channel_kpis "
            "where fiscal_year = 2024 and channel = 'all' and standards_applicable is not null",
        )
    }
    assert len(expected) > 300
    for service_id, (applicable, met) in expected.items():
        assert (rows[service_id]["standards_applicable"], rows[service_id]["standards_met"]) == (applicable, met), (
            service_id
        )


def test_programme_spending_is_apportioned_to_the_services_it_funds_apart_from_cost(built_lake):
    """For programmes whose services list no other programme: each service's programme
    spending is the programme's FY2024 actual spending apportioned by application volume,
    so every one of those services has the programme's spending per transaction; it is
    not a delivery cost: `cost` stays null (the inventory has no delivery costs)."""
    actual: dict[str, list[float]] = defaultdict(list)
    with (GC / "rbpo.csv").open(encoding="utf-8-sig", newline="") as f:
        for row in csv.DictReader(f):
            if row["fy_ef"] == "2023-2024" and _number(row["actual_spending"]) is not None:
                actual[row["program_id"]].append(_number(row["actual_spending"]))
    funded: dict[str, list[dict]] = defaultdict(list)
    all_programmes = defaultdict(set)
    for row in _si_2024():
        for p in _programmes(row):
            funded[p].append(row)
            all_programmes[row["service_id"]].add(p)
    kpis = {
        r["service_id"]: r
        for r in query(
            built_lake, "select * from marts.service_channel_kpis where fiscal_year = 2024 and channel = 'all'"
        )
    }
    checked = 0
    for programme, rows in sorted(funded.items()):
        if len(actual.get(programme, [])) != 1 or any(len(all_programmes[r["service_id"]]) != 1 for r in rows):
            continue
        volume = sum(_number(r["num_applications_total"]) or 0 for r in rows)
        if volume <= 0:
            continue
        for r in rows:
            own = _number(r["num_applications_total"]) or 0
            mart = kpis[r["service_id"]]
            expected = actual[programme][0] * own / volume
            if own > 0:
                assert mart["programme_spending"] == pytest.approx(expected, rel=1e-9, abs=1e-6)
                assert mart["programme_spending_per_transaction"] == pytest.approx(
                    actual[programme][0] / volume, rel=1e-9
                )
                assert mart["cost_basis"] == "programme_spending"
            assert mart["cost"] is None and mart["cost_per_transaction"] is None
        checked += 1
    assert checked > 50


def test_internal_services_codes_are_never_pooled_across_departments(built_lake):
    """ISS01.. are the same codes in every department: a code used by several
    organisations in FY2024 reaches no service (the inventory's owner_org slugs cannot be
    matched to rbpo's organisation ids), so a service that lists only such codes carries
    no programme spending; and the programme spending the services carry is exactly the
    FY2024 actual spending of the single-organisation codes that a service with
    applications lists."""
    orgs: dict[str, set[str]] = defaultdict(set)
    spending: dict[str, float] = defaultdict(float)
    with (GC / "rbpo.csv").open(encoding="utf-8-sig", newline="") as f:
        for row in csv.DictReader(f):
            amount = _number(row["actual_spending"])
            if row["fy_ef"] == "2023-2024" and amount is not None:
                orgs[row["program_id"]].add(row["organization_id"])
                spending[row["program_id"]] += amount
    shared = {p for p, o in orgs.items() if len(o) > 1}
    assert {p for p in shared if p.startswith("ISS")} and all(p.startswith("ISS") for p in shared)
    services = [r for r in _si_2024() if r["service_id"] != "SRV02975"]
    kpis = {
        r["service_id"]: r
        for r in query(
            built_lake, "select * from marts.service_channel_kpis where fiscal_year = 2024 and channel = 'all'"
        )
    }
    only_shared = [r for r in services if _programmes(r) and set(_programmes(r)) <= shared]
    assert len(only_shared) > 20
    for r in only_shared:
        assert kpis[r["service_id"]]["programme_spending"] is None, r["service_id"]
    listed_with_volume = {
        p
        for r in _si_2024()
        if sum(_number(r[c]) or 0 for c in CHANNEL_COLUMNS.values()) > 0
        for p in _programmes(r)
        if p not in shared
    }
    expected = sum(spending[p] for p in listed_with_volume if p in spending)
    carried = sum(k["programme_spending"] or 0 for k in kpis.values())
    assert carried == pytest.approx(expected, rel=1e-9)


def test_published_satisfaction_is_set_beside_the_one_recomputed_from_its_counts(built_lake):
    records = json.loads(
        (REALDATA / "uk_opg_service_kpis" / "use_a_lasting_power_of_attorney_service.json").read_text()
    )
    month = [r for r in records if r["_timestamp"].startswith("2026-03")]
    levels = ["very-dissatisfied", "dissatisfied", "neither", "satisfied", "very-satisfied"]
    counts = {r["dataType"]: r["count"] for r in month if r["dataType"] in levels}
    published = next(r["count"] for r in month if r["dataType"] == "user-satisfaction-percent")
    total = sum(counts.values())
    top2 = 100 * (counts["satisfied"] + counts["very-satisfied"]) / total
    weighted = sum(25 * i * counts[level] for i, level in enumerate(levels)) / total
    assert round(top2, 2) == 87.81 and round(weighted, 2) == 84.97 and published == 85  # PROVENANCE.md
    [row] = query(
        built_lake,
        "select * from marts.published_kpis where publisher = 'uk_opg' and service_id = 'use-an-lpa' "
        "and kpi = 'user_satisfaction' and period_start = date '2026-03-01'",
    )
    assert row["published_value"] == published
    assert row["computed_value"] == pytest.approx(top2)
    assert row["computed_weighted_mean_pct"] == pytest.approx(weighted)
    assert row["difference"] == pytest.approx(published - top2)
    assert row["closest_method"] == "weighted_mean"
    assert row["computed_from"] == "response_counts_top2"


def test_waits_per_office_come_from_the_time_series(built_lake):
    waits = defaultdict(list)
    with (REALDATA / "ca_dmv_queue_feed" / "cadmv_wait_times.csv").open(newline="") as f:
        for row in csv.DictReader(f):
            waits[row["branch_id"]].append(float(row["non_appt"]))
    rows = {
        r["site_id"]: r
        for r in query(built_lake, "select * from marts.wait_times_observed where wait_kind = 'walk_in'")
    }
    assert set(rows) == set(waits)
    for site, values in waits.items():
        assert rows[site]["observations"] == len(values)
        assert rows[site]["mean_wait_minutes"] == pytest.approx(statistics.fmean(values))
        assert rows[site]["max_wait_minutes"] == max(values)
