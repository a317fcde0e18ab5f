"""Published formats from ../shared/realdata ingest as they are: counts, exact values
checked against the files themselves, the oddities, and row accounting."""

import csv
import datetime as dt
import json
import xml.etree.ElementTree as ET

import pytest
from conftest import REALDATA, expected_pseudonym, source_rows
from conftest import assert_balanced as _balanced

from ingestion.errors import SourceFileError
from orchestration.load.flow import ingest_feed

# shared/ sits beside the repository (../shared/realdata from its root)
assert REALDATA.is_dir(), f"real public data files expected in {REALDATA}"


def _rows(catalog, source: str, table: str = "raw.service_requests") -> list[dict]:
    return source_rows(catalog, table, source)


def test_open311_bloomington_json(lake):
    settings, catalog = lake
    folder = REALDATA / "open311_bloomington"
    records = ingest_feed(settings, catalog, "open311", str(folder))
    _balanced(records)
    expected = json.loads((folder / "bloomington_requests.json").read_text())
    services = json.loads((folder / "bloomington_services.json").read_text())
    got = {r["request_id"]: r for r in _rows(catalog, "open311:open311_bloomington")}
    assert len(got) == len(expected) == 21
    assert len(_rows(catalog, "open311:open311_bloomington", "raw.services")) == len(services) == 46
    first = expected[0]
    row = got[first["service_request_id"]]
    # the offset is dropped: the wall-clock time the city recorded
    assert row["requested_at"] == dt.datetime.fromisoformat(first["requested_datetime"]).replace(tzinfo=None)
    assert row["status"] == first["status"].lower()
    assert row["service_id"] == first["service_code"]
    for src in expected:
        r = got[src["service_request_id"]]
        if src["status"].lower() == "closed":
            assert r["closed_at"] == dt.datetime.fromisoformat(src["updated_datetime"]).replace(tzinfo=None)
        else:
            assert r["closed_at"] is None
        if src.get("lat") in (None, 0, "0", ""):
            assert r["lat"] is None


def test_open311_san_francisco_xml_oddities(lake):
    settings, catalog = lake
    folder = REALDATA / "open311_sanfrancisco"
    records = ingest_feed(settings, catalog, "open311", str(folder))
    _balanced(records)
    root = ET.parse(folder / "san_francisco_requests.xml").getroot()
    requests = root.findall("request")
    got = {r["request_id"]: r for r in _rows(catalog, "open311:open311_sanfrancisco")}
    assert len(got) == len(requests) == 56
    first = requests[0]
    row = got[first.findtext("service_request_id")]
    assert first.findtext("requested_datetime") == "2012-05-22 23:57:23.97"
    assert row["requested_at"] == dt.datetime(2012, 5, 22, 23, 57, 23, 970000)
    assert row["expected_at"] == dt.datetime.strptime(first.findtext("expected_datetime"), "%Y-%m-%d %H:%M:%S.%f")
    assert first.findtext("lat") == "0.0" and row["lat"] is None  # lat=0 sentinel
    assert first.findtext("zipcode") == "0" and row["zipcode"] is None
    assert row["location"] == expected_pseudonym("address", "SAN FRANCISCO , CA")  # an address: pseudonymised
    assert len(_rows(catalog, "open311:open311_sanfrancisco", "raw.services")) == len(
        ET.parse(folder / "san_francisco_services.xml").getroot().findall("service")
    )


def test_two_open311_cities_keep_their_own_rows(lake):
    settings, catalog = lake
    ingest_feed(settings, catalog, "open311", str(REALDATA / "open311_bloomington"))
    ingest_feed(settings, catalog, "open311", str(REALDATA / "open311_sanfrancisco"))
    ingest_feed(settings, catalog, "open311", str(REALDATA / "open311_bloomington"))  # again: replaces its own
    rows = catalog.load_table("raw.service_requests").scan().to_arrow().to_pylist()
    by_source = {}
    for r in rows:
        by_source[r["_source"]] = by_source.get(r["_source"], 0) + 1
    assert by_source == {"open311:open311_bloomington": 21, "open311:open311_sanfrancisco": 56}


def _parse_nyc(value: str) -> dt.datetime | None:
    return dt.datetime.strptime(value, "%m/%d/%Y %I:%M:%S %p") if value else None


def test_nyc311_csv_and_api_json(lake):
    settings, catalog = lake
    folder = REALDATA / "nyc_311"
    records = ingest_feed(settings, catalog, "nyc311", str(folder))
    _balanced(records)
    with open(folder / "311_Service_Requests_sample.csv", newline="") as fh:
        csv_rows = list(csv.DictReader(fh))
    api = json.loads((folder / "311_Service_Requests_api_2024-05-26.json").read_text())
    assert sum(r.received for r in records) == len(csv_rows) + len(api) == 2000
    # rows closed before they were opened are the ones quarantined
    backwards = {
        r["Unique Key"]
        for r in csv_rows
        if r["Closed Date"] and _parse_nyc(r["Closed Date"]) < _parse_nyc(r["Created Date"])
    }
    quarantine = catalog.load_table("quarantine.rejected_rows").scan().to_arrow().to_pylist()
    assert {json.loads(q["row"])["request_id"] for q in quarantine} == backwards
    assert {q["rule"] for q in quarantine} == {"closed_after_requested"}
    assert sum(r.quarantined for r in records) == len(backwards)

    loaded = _rows(catalog, "nyc311:nyc_311")
    assert len(loaded) == 2000 - len(backwards)
    # channel from open_data_channel_type; absent JSON keys are nulls
    api_2024 = [r for r in loaded if r["fiscal_year"] == 2024]
    channels = {}
    for r in api_2024:
        channels[r["channel"]] = channels.get(r["channel"], 0) + 1
    expected = {}
    for r in api:
        ch = {"PHONE": "phone", "ONLINE": "online", "MOBILE": "mobile"}.get(r.get("open_data_channel_type"), "other")
        expected[ch] = expected.get(ch, 0) + 1
    assert channels == expected
    by_id = {r["request_id"]: r for r in api_2024}
    sample = api[0]
    assert by_id[sample["unique_key"]]["service_id"] == sample["complaint_type"]
    assert by_id[sample["unique_key"]]["closed_at"] is None or "closed_date" in sample
    # the ZIP code is the request's coarse area (marts.request_hot_spots), kept in clear
    zips = {r["Unique Key"]: r["Incident Zip"] or None for r in csv_rows}
    in_csv = [r for r in loaded if r["request_id"] in zips]
    assert in_csv and all(r["area"] == zips[r["request_id"]] for r in in_csv)
    assert by_id[sample["unique_key"]]["area"] == sample.get("incident_zip")
    # extra source columns are kept, a source column named like a canonical one as source_<name>
    assert "descriptor" in loaded[0]
    # ... except personal ones: NYC's "Location" (kept as source_location) is exact
    # coordinates, dropped at the door; latitude/longitude are coarsened to a grid cell
    assert "source_location" not in loaded[0] and "street_name" not in loaded[0]
    assert all(r["latitude"] is None or round(float(r["latitude"]), 2) == float(r["latitude"]) for r in loaded)


def test_an_unreadable_source_file_fails_naming_it(lake, tmp_path):
    settings, catalog = lake
    bad = tmp_path / "city_requests.json"
    bad.write_text("{ this is not json")
    with pytest.raises(SourceFileError, match="city_requests.json"):
        ingest_feed(settings, catalog, "open311", str(bad))
