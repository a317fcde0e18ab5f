"""feeds.yml: parsing and validation, `civic feeds` (alias `civic sources`), and a refresh that loads the
configured real sources (Bloomington Open311, NYC 311) for one fiscal year only."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from pathlib import Path

import dagster as dg
import pytest

from lake.catalog import open_catalog
from lake.settings import load_settings
from orchestration.cli import main
from orchestration.load.feeds import FeedsConfigError, read_feeds

REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"
BLOOMINGTON = REALDATA / "open311_bloomington"
NYC = REALDATA / "nyc_311"
NYC_API = NYC / "311_Service_Requests_api_2024-05-26.json"


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_entries_resolve_relative_paths_and_carry_endpoint_options(tmp_path):
    rel = os.path.relpath(BLOOMINGTON, tmp_path / "conf")
    path = _write(
        tmp_path / "conf" / "feeds.yml",
        f"""
sources:
  - name: bloomington
    kind: open311
    location: {rel}
  - name: nyc
    kind: nyc311
    location: {NYC}
  - name: city-api
    kind: open311
    location: https://city.example/open311/v2?jurisdiction_id=city.example
    entities: [service_requests]
    options: {{format: xml, since: 2023-01-01, paging: true, page_size: 200}}
""",
    )
    bloomington, nyc, api = read_feeds(path)
    assert (bloomington.name, bloomington.kind, bloomington.location) == ("bloomington", "open311", str(BLOOMINGTON))
    assert bloomington.entities == ("service_requests", "services")
    assert nyc.entities == ("service_requests",) and nyc.location == str(NYC)
    assert api.entities == ("service_requests",)
    assert api.location == (
        "https://city.example/open311/v2?jurisdiction_id=city.example"
        "#format=xml&since=2023-01-01&paging=true&page_size=200"
    )


def test_no_file_or_an_empty_list_means_no_sources(tmp_path):
    assert read_feeds(tmp_path / "absent.yml") == []
    assert read_feeds(_write(tmp_path / "s.yml", "sources: []\n")) == []
    assert read_feeds(_write(tmp_path / "e.yml", "")) == []


@pytest.mark.parametrize(
    ("body", "entry", "problem"),
    [
        ("sources: {name: x}", "", "holding a list"),
        ("feeds: []", "", "one key, `sources:`"),
        ("sources:\n  - just a string", r"sources\[0\]", "expected a mapping"),
        ("sources:\n  - {name: a, kind: open311}", r"sources\[0\] \(a\)", "`location` is missing"),
        ("sources:\n  - {name: a, kind: socrata, location: /tmp}", r"sources\[0\] \(a\)", "unknown kind 'socrata'"),
        (
            "sources:\n  - {name: a, kind: open311, location: /tmp, colour: red}",
            r"sources\[0\] \(a\)",
            "unknown key.*colour",
        ),
        ("sources:\n  - {name: a, kind: open311, location: ./nowhere}", r"sources\[0\] \(a\)", "does not exist"),
        ("sources:\n  - {name: 'a b', kind: open311, location: /tmp}", r"sources\[0\] \(a b\)", "letters, digits"),
        (
            "sources:\n  - {name: a, kind: nyc311, location: /tmp, entities: [services]}",
            r"sources\[0\] \(a\)",
            "`entities` must",
        ),
        (
            "sources:\n  - {name: a, kind: open311, location: /tmp, options: {format: xml}}",
            r"sources\[0\] \(a\)",
            "http",
        ),
        (
            "sources:\n  - {name: a, kind: nyc311, location: 'http://x/v2'}",
            r"sources\[0\] \(a\)",
            "endpoints are read by open311",
        ),
        (
            "sources:\n  - {name: a, kind: open311, location: 'http://x/v2', options: {format: csv}}",
            r"sources\[0\] \(a\)",
            "format='csv'",
        ),
        (
            "sources:\n  - {name: a, kind: open311, location: 'http://x/v2', options: {pages: 3}}",
            r"sources\[0\] \(a\)",
            "unknown option 'pages'",
        ),
        (
            "sources:\n  - {name: a, kind: open311, location: /tmp}\n  - {name: a, kind: nyc311, location: /tmp}",
            r"sources\[1\] \(a\)",
            "used twice",
        ),
        ("sources:\n  - {name: a, kind: open311, location: /tmp\n", "", "not readable YAML"),
    ],
)
def test_a_malformed_file_names_the_file_and_the_entry(tmp_path, body, entry, problem):
    path = _write(tmp_path / "feeds.yml", body)
    with pytest.raises(FeedsConfigError, match=f"{re.escape(str(path))}: {entry or ''}.*{problem}"):
        read_feeds(path)


def test_the_file_is_found_at_civic_feeds_or_in_civic_home(civic_home, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("CIVIC_FEEDS", raising=False)
    monkeypatch.delenv("CIVIC_SOURCES", raising=False)
    assert load_settings().feeds_file == civic_home.resolve() / "feeds.yml"
    elsewhere = _write(tmp_path / "elsewhere.yml", f"sources:\n  - {{name: nyc, kind: nyc311, location: {NYC}}}\n")
    monkeypatch.setenv("CIVIC_FEEDS", str(elsewhere))
    assert load_settings().feeds_file == elsewhere
    assert main(["sources", "--format", "csv"]) == 0
    assert capsys.readouterr().out.split() == [
        "name,kind,location,entities,service_id_prefix",
        f"nyc,nyc311,{NYC},service_requests,",
    ]
    _write(elsewhere, "sources:\n  - {name: nyc, kind: nyc311}\n")
    assert main(["sources"]) == 1
    assert f"{elsewhere}: sources[0] (nyc): `location` is missing" in capsys.readouterr().err
    assert main(["refresh", "--years", "2024"]) == 1  # refused before anything runs
    assert "civic refresh: " in capsys.readouterr().err


def test_the_old_names_are_still_read_with_a_notice(civic_home, tmp_path, monkeypatch, capsys):
    import lake.settings

    monkeypatch.setattr(lake.settings, "_NOTED", set())
    monkeypatch.delenv("CIVIC_FEEDS", raising=False)
    monkeypatch.delenv("CIVIC_SOURCES", raising=False)
    old = _write(civic_home / "sources.yml", "sources: []\n").resolve()
    assert load_settings().feeds_file == old
    assert load_settings().feeds_file == old
    assert capsys.readouterr().err.count("rename it to feeds.yml") == 1  # once
    _write(civic_home / "feeds.yml", "sources: []\n")
    assert load_settings().feeds_file == civic_home.resolve() / "feeds.yml"  # the new name wins
    elsewhere = _write(tmp_path / "elsewhere.yml", "sources: []\n")
    monkeypatch.setenv("CIVIC_SOURCES", str(elsewhere))
    assert load_settings().feeds_file == elsewhere
    assert "deprecated: CIVIC_SOURCES: set CIVIC_FEEDS instead" in capsys.readouterr().err
    monkeypatch.setenv("CIVIC_FEEDS", str(old))
    assert load_settings().feeds_file == old


def _nyc_fy(record: dict) -> int:
    return dt.datetime.fromisoformat(record["created_date"]).year  # fiscal year = calendar year (January start)


def test_a_refresh_loads_the_configured_sources_for_its_year_only(civic_home, monkeypatch):
    monkeypatch.delenv("CIVIC_FEEDS", raising=False)
    monkeypatch.delenv("CIVIC_SOURCES", raising=False)
    monkeypatch.delenv("CIVIC_FY_START_MONTH", raising=False)
    settings = load_settings()
    assert settings.calendar.start_month == 1
    _write(
        civic_home / "feeds.yml",
        f"""
sources:
  - name: bloomington
    kind: open311
    location: {os.path.relpath(BLOOMINGTON, civic_home)}
  - name: nyc
    kind: nyc311
    location: {NYC}
""",
    )
    api = json.loads(NYC_API.read_text())
    api_2024 = [r for r in api if _nyc_fy(r) == 2024]
    backwards = {  # closed before it was opened: the contract quarantines these
        r["unique_key"]
        for r in api_2024
        if r.get("closed_date")
        and dt.datetime.fromisoformat(r["closed_date"]) < dt.datetime.fromisoformat(r["created_date"])
    }
    services = json.loads((BLOOMINGTON / "bloomington_services.json").read_text())
    bloomington_years = {
        dt.datetime.fromisoformat(r["requested_datetime"]).year
        for r in json.loads((BLOOMINGTON / "bloomington_requests.json").read_text())
    }
    assert 2024 not in bloomington_years  # Bloomington's requests are of 2012: none belong to FY2024

    from orchestration.cli.refresh import run_refresh

    instance = dg.DagsterInstance.ephemeral()
    outcome = run_refresh([2024], instance=instance)
    catalog = open_catalog(settings)
    requests = catalog.load_table("raw.service_requests").scan().to_arrow().to_pylist()
    nyc = [r for r in requests if r["_source"] == "nyc"]
    assert len(nyc) == len(api_2024) - len(backwards) and {r["fiscal_year"] for r in nyc} == {2024}
    assert {r["request_id"] for r in nyc} == {r["unique_key"] for r in api_2024} - backwards
    assert not [r for r in requests if r["_source"] == "bloomington"]
    # the CSV export's rows (2014-2019) are of other fiscal years: not committed by this run
    assert {r["fiscal_year"] for r in requests} == {2024}
    # its catalogue stands for the years its requests fall in (2012), not for FY2024: no
    # feed or landing file gave this lake a services row
    assert services and not catalog.table_exists("raw.services")

    ledger = {
        (r["table_name"], r["fiscal_year"], r["source"]): r
        for r in catalog.load_table("raw.loads").scan().to_arrow().to_pylist()
    }
    nyc_load = ledger[("raw.service_requests", 2024, "nyc")]
    assert (nyc_load["received"], nyc_load["loaded"], nyc_load["quarantined"]) == (
        len(api_2024),
        len(nyc),
        len(backwards),
    )
    assert ledger[("raw.services", 2024, "bloomington")]["loaded"] == 0  # committed empty
    empty = ledger[("raw.service_requests", 2024, "bloomington")]
    assert (empty["received"], empty["loaded"], empty["quarantined"]) == (0, 0, 0)
    assert not [k for k in ledger if k[2] in ("nyc", "bloomington") and k[1] != 2024]

    # the asset's blocking row accounting covered the sources' loads, with their counts
    key = dg.AssetKey(["raw", "service_requests"])
    check = instance.event_log_storage.get_latest_asset_check_execution_by_key(
        [dg.AssetCheckKey(key, "row_accounting")]
    )[dg.AssetCheckKey(key, "row_accounting")]
    assert check.event.dagster_event.event_specific_data.passed is True
    materialization = instance.get_latest_materialization_event(key).asset_materialization
    loads = materialization.metadata["loads"].value
    assert loads["2024 nyc"]["received"] == len(api_2024) and loads["2024 bloomington"]["received"] == 0
    assert materialization.metadata["received"].value == len(api_2024)  # the landing zone is empty
    assert outcome.success, outcome.failures


def test_a_snapshot_feed_takes_its_observation_time_from_feeds_yml(civic_home, lake):
    """ca_dmv_xml and ma_rmv_xml carry no time of their own: `observed_at` in feeds.yml is
    what `civic ingest --observed-at` gives, so a refresh can load them too."""
    import xml.etree.ElementTree as ET

    from orchestration.load.flow import load_feeds

    feed = REALDATA / "ma_rmv_queue_feed" / "rmv_waittime.xml"
    path = _write(
        civic_home / "feeds.yml",
        f"sources:\n  - {{name: rmv, kind: ma_rmv_xml, location: '{feed}', observed_at: 2017-03-01T10:15}}\n",
    )
    [rmv] = read_feeds(path)
    assert rmv.observed_at == dt.datetime(2017, 3, 1, 10, 15)
    settings, catalog = load_settings(), lake[1]
    [record] = load_feeds(settings, catalog, "wait_observations", [2017])
    branches = ET.parse(feed).getroot().findall("branch")
    assert (record.fiscal_year, record.received, record.loaded) == (2017, 2 * len(branches), 2 * len(branches))
    rows = catalog.load_table("raw.wait_observations").scan().to_arrow().to_pylist()
    assert {r["observed_at"] for r in rows} == {dt.datetime(2017, 3, 1, 10, 15)}
    with pytest.raises(FeedsConfigError, match="observed_at 'noon' is not a date and time"):
        read_feeds(
            _write(
                civic_home / "bad.yml",
                f"sources:\n  - {{name: r, kind: ma_rmv_xml, location: '{feed}', observed_at: noon}}\n",
            )
        )
