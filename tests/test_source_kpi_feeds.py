"""Published KPI feeds (UK OPG, AU DTA Performance Dashboard) from ../shared/realdata:
counts per file, exact values and nulls checked against the files read here with json,
the OPG satisfaction regression recomputed from loaded rows, and row accounting."""

import datetime as dt
import json
import re
from collections import Counter
from pathlib import Path

import pytest
from conftest import REALDATA, source_rows
from conftest import assert_balanced as _balanced
from conftest import quarantined_rows as _quarantined

from ingestion.errors import SourceFileError
from orchestration.load.flow import ingest_feed

OPG = REALDATA / "uk_opg_service_kpis"
DTA = REALDATA / "au_dta_performance_dashboard"
LEVELS = ("very-dissatisfied", "dissatisfied", "neither", "satisfied", "very-satisfied")


def _loaded(catalog, source: str) -> list[dict]:
    return source_rows(catalog, "raw.kpi_observations", source)


def _month(rows, service: str, kpi: str, month: str, dimension=None) -> list[dict]:
    start = dt.datetime.strptime(month, "%Y-%m")
    return [
        r
        for r in rows
        if r["service_id"] == service and r["kpi"] == kpi and r["period_start"] == start and r["dimension"] == dimension
    ]


def test_uk_opg_counts_values_and_published_satisfaction_regression(lake):
    settings, catalog = lake
    records = ingest_feed(settings, catalog, "uk_opg", str(OPG))
    _balanced(records)
    source = "uk_opg:uk_opg_service_kpis"
    rows = _loaded(catalog, source)
    files = {p.name: json.loads(p.read_text()) for p in sorted(OPG.glob("*.json"))}
    assert len(files) == 3
    # every record of every file: loaded, or quarantined as a repeat of its key
    per_file = Counter(Path(r["_source_file"]).name for r in rows)
    quarantined = Counter(Path(r["source_file"]).name for r in _quarantined(catalog, source))
    for name, recs in files.items():
        keys = Counter((r["service"], r["dataType"], r["channel"], r["_timestamp"]) for r in recs)
        repeats = sum(n - 1 for n in keys.values())
        assert per_file[name] == len(recs) - repeats
        assert quarantined[name] == repeats
    assert sum(per_file.values()) == sum(rec.loaded for rec in records)

    use = files["use_a_lasting_power_of_attorney_service.json"]
    provenance = (REALDATA / "PROVENANCE.md").read_text()
    facts = re.findall(r"(\d{4}-\d{2}) is published as (\d+): weighted mean (\d+\.\d+), top-2 (\d+\.\d+)", provenance)
    assert len(facts) == 2, "PROVENANCE states the OPG regression for two months"
    for month, published, weighted_mean, top2 in facts:
        src = {r["dataType"]: r["count"] for r in use if r["_timestamp"].startswith(month)}
        assert src["user-satisfaction-percent"] == int(published)
        [pub] = _month(rows, "use-an-lpa", "user_satisfaction", month)
        assert pub["value"] == float(published) and pub["unit"] == "percent"
        counts = {}
        for level in LEVELS:
            [row] = _month(rows, "use-an-lpa", "satisfaction_responses", month, level)
            assert row["value"] == src[level] and row["unit"] == "count"
            counts[level] = row["value"]
        total = sum(counts.values())
        got_top2 = 100 * (counts["satisfied"] + counts["very-satisfied"]) / total
        got_mean = sum(counts[level] * w for level, w in zip(LEVELS, (0, 25, 50, 75, 100))) / total
        assert round(got_top2, 2) == float(top2)
        assert round(got_mean, 2) == float(weighted_mean)

    # the key, the naive period start, the channel and the service name
    [vs] = _month(rows, "use-an-lpa", "satisfaction_responses", "2026-03", "very-satisfied")
    assert vs["observation_id"] == "uk_opg/use-an-lpa/satisfaction_responses/very-satisfied/online/2026-03-01T00:00:00"
    assert vs["publisher"] == "uk_opg" and vs["channel"] == "online" and vs["source_channel"] == "digital"
    assert vs["source_timestamp"] == "2026-03-01T00:00:00+00:00" and vs["period"] == "month"
    assert vs["service_name"] == "Use a lasting power of attorney service"
    # counts published as text ("44.2") are read as numbers; uptime is a KPI of its own
    make = files["make_a_lasting_power_of_attorney_service.json"]
    text_count = next(r for r in make if isinstance(r["count"], str))
    [dtu] = _month(rows, "make-a-lpa", "digital_take_up", text_count["_timestamp"][:7])
    assert dtu["value"] == float(text_count["count"])
    uptime = next(r for r in make if r["dataType"] == "uptime-percent")
    [up] = _month(rows, "make-a-lpa", "uptime", uptime["_timestamp"][:7])
    assert up["value"] == uptime["count"]


def test_uk_opg_repeated_key_and_unknown_data_type_are_quarantined(lake, tmp_path):
    settings, catalog = lake
    real = json.loads((OPG / "complete_the_deputy_report_service.json").read_text())[:6]
    unknown = {**real[0], "dataType": "calls-answered"}
    (tmp_path / "deputy.json").write_text(json.dumps([*real, dict(real[1]), unknown]))
    records = ingest_feed(settings, catalog, "uk_opg", str(tmp_path), name="opg_test")
    _balanced(records)
    assert sum(r.received for r in records) == 8
    assert len(_loaded(catalog, "opg_test")) == 6
    reasons = {q["rule"]: q["message"] for q in _quarantined(catalog, "opg_test")}
    assert set(reasons) == {"unique_id", "source_rejected"}
    assert "repeats an earlier row" in reasons["unique_id"]
    assert reasons["source_rejected"].startswith("dataType 'calls-answered' is not one of the OPG figures we map")


def test_uk_opg_unreadable_file_fails_naming_it(lake, tmp_path):
    settings, catalog = lake
    (tmp_path / "broken.json").write_text('[{"_timestamp": "2026-01-01T00:00:00+00:00",')
    with pytest.raises(SourceFileError, match="broken.json"):
        ingest_feed(settings, catalog, "uk_opg", str(tmp_path), name="opg_broken")
    assert not catalog.table_exists("raw.kpi_observations") or not _loaded(catalog, "opg_broken")


def test_au_dta_kpis_indicators_and_not_available_months(lake):
    settings, catalog = lake
    records = ingest_feed(settings, catalog, "au_dta", str(DTA))
    _balanced(records)
    source = "au_dta:au_dta_performance_dashboard"
    rows = _loaded(catalog, source)
    assert not _quarantined(catalog, source)
    per_file = Counter(Path(r["_source_file"]).name for r in rows)
    data_files = sorted(DTA.glob("*-data.json"))
    assert len(data_files) == 6
    for path in data_files:
        data = json.loads(path.read_text())
        points = [p for ds in data["datasets"] for p in ds["data"]]
        assert per_file[path.name] == len(points)
        nulls = sum(p["value"] is None for p in points)
        service = path.name[: -len("-data.json")]
        assert sum(r["value"] is None for r in rows if r["service_id"] == service) == nulls
        definition = json.loads(path.with_name(f"{service}-definition.json").read_text())
        assert {r["service_name"] for r in rows if r["service_id"] == service} == {definition["name"]}

    dibp = json.loads((DTA / "dibp-data.json").read_text())
    sets = {ds["id"]: ds for ds in dibp["datasets"]}
    first = sets["user-satisfaction"]["data"][0]
    [sat] = _month(rows, "dibp", "user_satisfaction", first["label"])
    assert sat["value"] == first["value"] and sat["unit"] == "percent" and sat["publisher"] == "au_dta"
    assert "feedback kiosks" in sat["kpi_note"]  # the service's own definition of the KPI
    # a month the dashboard marks not available is loaded with a null value
    cost = sets["cost-per-transaction"]["data"][0]
    assert cost["value"] is None
    [na] = _month(rows, "dibp", "cost_per_transaction", cost["label"])
    assert na["value"] is None and na["unit"] == "AUD"
    # a dataset that is not one of the four KPIs is an indicator named by its id
    device = sets["device-type-01"]
    [dev] = _month(rows, "dibp", "indicator", device["data"][0]["label"], "device-type-01")
    assert dev["value"] == device["data"][0]["value"] and dev["dataset_name"] == device["name"]
    assert dev["unit"] == "count"  # the dashboard's unit code "i" (integer)
    assert dev["observation_id"] == f"au_dta/dibp/indicator/device-type-01//{device['data'][0]['label']}-01"


def test_au_dta_data_file_without_its_definition_fails(lake, tmp_path):
    settings, catalog = lake
    (tmp_path / "imports-data.json").write_bytes((DTA / "imports-data.json").read_bytes())
    with pytest.raises(SourceFileError, match="imports-definition.json is missing"):
        ingest_feed(settings, catalog, "au_dta", str(tmp_path), name="dta_alone")
