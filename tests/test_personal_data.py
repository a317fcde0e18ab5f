"""Personal values planted in real published files (fuzzed copies of the Open311 and NYC
3-1-1 files of ../shared/realdata) and in the demo never appear in clear anywhere under
CIVIC_HOME: not in the raw tables, the quarantine, the catalog, the metadata or the
marts' DuckDB file (every file is scanned, decoded). Without a key, nothing loads."""

import csv
import json
import shutil

import pyarrow.compute as pc
import pytest
from conftest import REALDATA, expected_pseudonym, source_rows
from personal_scan import files_holding

from orchestration.cli import main
from orchestration.load.flow import ingest_feed

# unlikely anywhere else: a name, contact details, an exact address and exact coordinates
NAME, EMAIL, PHONE = "Zelda Quixotefield", "zelda.quixotefield@example.org", "812-555-0199"
ADDRESS, NYC_ADDRESS = "1313 Mockingbird Lane Apt 7Q", "77 QUIXOTEFIELD PLACE"
LAT, LONG = "39.1657381234", "-86.5279164321"


def _fuzzed_bloomington(folder):
    """Bloomington's requests with personal values planted in three rows: one valid, one
    with a row rule broken (closed before it was requested: quarantined), one unreadable
    (a bad timestamp: quarantined)."""
    src = REALDATA / "open311_bloomington"
    folder.mkdir()
    shutil.copy(src / "bloomington_services.json", folder)
    requests = json.loads((src / "bloomington_requests.json").read_text())
    for r in requests[:3]:
        r.update(address=ADDRESS, lat=LAT, long=LONG, description=f"{NAME}, {EMAIL}, {PHONE}")
        r["media_url"] = f"https://example.org/photos/{NAME.replace(' ', '_')}.jpg"
    requests[1].update(status="closed", updated_datetime="2001-01-01T00:00:00-04:00")
    requests[2]["requested_datetime"] = "not a time"
    (folder / "bloomington_requests.json").write_text(json.dumps(requests))
    return requests


def _fuzzed_nyc(folder):
    folder.mkdir()
    with open(REALDATA / "nyc_311" / "311_Service_Requests_sample.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    rows[0].update({"Incident Address": NYC_ADDRESS, "Street Name": "QUIXOTEFIELD PLACE", "Latitude": LAT})
    rows[0]["Location"] = f"({LAT}, {LONG})"
    with open(folder / "311_Service_Requests_sample.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return rows


def test_planted_values_in_fuzzed_real_files_never_reach_the_lake(lake, tmp_path):
    settings, catalog = lake
    requests = _fuzzed_bloomington(tmp_path / "bloomington")
    nyc = _fuzzed_nyc(tmp_path / "nyc")
    records = ingest_feed(settings, catalog, "open311", str(tmp_path / "bloomington"), name="bl")
    records += ingest_feed(settings, catalog, "nyc311", str(tmp_path / "nyc"), name="ny")
    assert sum(r.quarantined for r in records) >= 2
    quarantine = [
        json.loads(q["row"]) for q in catalog.load_table("quarantine.rejected_rows").scan().to_arrow().to_pylist()
    ]
    rejected = {q["request_id"]: q for q in quarantine}
    # both planted rejects are in the quarantine, with their personal fields protected
    for r in requests[1:3]:
        row = rejected[r["service_request_id"]]
        assert row["address"] == expected_pseudonym("address", ADDRESS) and row["lat"] == "39.17"
        assert "description" not in row and "media_url" not in row
    loaded = {r["request_id"]: r for r in source_rows(catalog, "raw.service_requests", "bl")}
    good = loaded[requests[0]["service_request_id"]]
    assert good["location"] == good["address"] == expected_pseudonym("address", ADDRESS)
    assert (good["lat"], good["long"]) == ("39.17", "-86.53")
    ny = {r["request_id"]: r for r in source_rows(catalog, "raw.service_requests", "ny")}
    assert ny[nyc[0]["Unique Key"]]["location"] == expected_pseudonym("address", NYC_ADDRESS)
    planted = [NAME, EMAIL, PHONE, ADDRESS, NYC_ADDRESS, "QUIXOTEFIELD", LAT, LONG, "Quixotefield"]
    assert files_holding(settings.home, planted) == {}
    # ... while the same scan finds them in the sources (it would find them in the lake)
    assert set(files_holding(tmp_path / "bloomington", planted)) == {"bloomington_requests.json"}


def test_ingest_without_a_key_refuses_and_loads_nothing(civic_home, monkeypatch, capsys):
    monkeypatch.delenv("CIVIC_PSEUDONYM_KEY")
    assert main(["ingest", "--kind", "open311", str(REALDATA / "open311_bloomington")]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "need a pseudonymisation key" in err and "CIVIC_PSEUDONYM_KEY" in err
    from lake.catalog import open_catalog
    from lake.settings import load_settings

    catalog = open_catalog(load_settings())
    assert not catalog.table_exists("raw.services") and not catalog.table_exists("raw.service_requests")


def test_refresh_without_a_key_refuses_before_anything_runs(civic_home, monkeypatch, capsys):
    monkeypatch.delenv("CIVIC_PSEUDONYM_KEY")
    folder = civic_home / "landing" / "survey_responses" / "fy=2024"
    folder.mkdir(parents=True)
    (folder / "responses.csv").write_text(
        "response_id,service_id,responded_at,satisfaction,respondent_key\nr1,S1,2024-03-01T10:00:00,4,CIT-0000001\n"
    )
    assert main(["refresh", "--years", "2024"]) == 1
    err = capsys.readouterr().err
    assert "civic refresh: survey_responses: personal column(s)" in err
    assert not (civic_home / "catalog.db").exists() and not (civic_home / "warehouse").exists()


def test_the_demo_makes_a_private_key_once_when_none_is_set(civic_home, monkeypatch, capsys):
    from lake.settings import load_settings
    from orchestration.cli.main import _demo_key

    monkeypatch.delenv("CIVIC_PSEUDONYM_KEY")
    _demo_key(load_settings())
    key = civic_home / "pseudonym.key"
    assert (key.stat().st_mode & 0o777) == 0o600 and "Created a random pseudonymisation key" in capsys.readouterr().out
    first = key.read_text()
    _demo_key(load_settings())
    assert key.read_text() == first and capsys.readouterr().out == ""


@pytest.mark.slow
def test_demo_citizens_never_appear_in_clear(demo_build):
    """The demo delivers respondents in clear (CIT-0000042): none is found anywhere but in
    the landing zone, and raw.survey_responses keeps one pseudonym per citizen."""
    home, _truths, _out = demo_build
    assert files_holding(home, ["CIT-"], skip=(home / "landing",)) == {}
    from lake.catalog import open_catalog
    from lake.settings import load_settings

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CIVIC_HOME", str(home))
        catalog = open_catalog(load_settings())
    keys = catalog.load_table("raw.survey_responses").scan(selected_fields=("respondent_key",)).to_arrow()
    landed = set()
    for f in (home / "landing" / "survey_responses").rglob("*.csv"):
        with open(f, newline="") as fh:
            landed |= {r["respondent_key"] for r in csv.DictReader(fh) if r.get("respondent_key")}
    stored = set(pc.unique(keys["respondent_key"]).to_pylist()) - {None}
    assert stored <= {expected_pseudonym("respondent", k) for k in landed}
    assert len(stored) > 100
