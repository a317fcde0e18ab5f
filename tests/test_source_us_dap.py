"""US DAP (analytics.usa.gov GA4) exports into `web_traffic_daily`: every file accounted
for, values checked against the files read here with csv/json, window dates from the
files themselves, and row accounting."""

import csv
import datetime as dt
import json
import shutil
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from conftest import REALDATA, source_rows

from ingestion.errors import SourceFileError
from ingestion.feeds.us_dap import json_window, names, snake
from orchestration.load.flow import ingest_feed

DAP = REALDATA / "us_dap_analytics"
FEED = "us_dap:us_dap_analytics"


def _rows(catalog, source: str = FEED) -> list[dict]:
    return source_rows(catalog, "raw.web_traffic_daily", source)


def _csv(name: str) -> list[dict]:
    with open(DAP / name, newline="") as fh:
        return list(csv.DictReader(fh))


def _json(name: str) -> dict:
    return json.loads((DAP / name).read_text())


def _day(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def _expected_rows(path: Path) -> int:
    if path.suffix == ".csv":
        return len(_csv(path.name))
    report = _json(path.name)
    if report.get("data"):
        return len(report["data"])
    return sum(len(v) for k, v in report["totals"].items() if k.startswith("by_"))


def test_names_and_snake_case():
    assert names(Path("veterans-affairs_top-landing-pages-30-days.csv")) == (
        "veterans-affairs",
        "top-landing-pages-30-days",
    )
    assert names(Path("ga4-data/veterans-affairs/users.csv")) == ("veterans-affairs", "users")
    assert names(Path("analytics.usa.gov_was-this-page-helpful-30-days.json"))[0] == "analytics.usa.gov"
    assert snake("customEvent:event_label") == "custom_event_event_label"
    assert snake("pagePath") == "page_path"


def test_json_window_matches_the_days_the_report_holds():
    """A report with dates checks the window arithmetic: 30daysAgo..yesterday from taken_at."""
    report = _json("live_daily-sessions-30-days.json")
    end, days = json_window(report, DAP / "live_daily-sessions-30-days.json")
    dates = sorted(r["date"] for r in report["data"])
    assert (end, days) == (dates[-1], len(dates)) == ("2024-01-15", 30)


def test_every_dap_file_loaded_with_row_accounting(lake):
    settings, catalog = lake
    files = sorted(p for p in DAP.iterdir() if p.suffix in (".csv", ".json"))
    assert len(files) == 13
    records = ingest_feed(settings, catalog, "us_dap", str(DAP))
    for rec in records:
        assert rec.received == rec.loaded + rec.quarantined
    expected = {p.name: _expected_rows(p) for p in files}
    assert sum(r.received for r in records) == sum(expected.values()) == 789
    assert sum(r.quarantined for r in records) == 0
    rows = _rows(catalog)
    per_file: dict[str, int] = {}
    for r in rows:
        name = Path(r["_source_file"]).name
        per_file[name] = per_file.get(name, 0) + 1
    assert per_file == expected

    # daily visits, property from the file name
    by_id = {r["row_id"]: r for r in rows}
    for name, prop in (("veterans-affairs_users.csv", "veterans-affairs"), ("live_users.csv", "live")):
        for src in _csv(name):
            row = by_id[f"{prop}:users:{src['date']}:all"]
            assert row["visits"] == int(src["visits"]) and row["day"] == _day(src["date"])
            assert row["period_days"] == 1 and row["dimension"] is None

    # 30-day landing pages: dated by the last day of the same run's daily reports
    last_day = max(r["date"] for r in _csv("social-security-administration_users.csv"))
    for src in _csv("social-security-administration_top-landing-pages-30-days.csv"):
        row = by_id[
            f"social-security-administration:top-landing-pages-30-days:{last_day}:domain={src['domain']}|landing_page={src['landing_page']}"
        ]
        assert row["dimension"] == "landing_page"
        assert row["dimension_value"] == src["domain"] + src["landing_page"]
        assert row["bounce_rate"] == float(src["bounce_rate"]) <= 1  # a share, not a percent
        assert row["avg_session_seconds"] == float(src["avg_session_duration"])
        assert row["visits"] == int(src["visits"]) and row["users"] == int(src["active_visitors"])
        assert row["period_days"] == 30 and row["day"] == _day(last_day)
    myaccount = next(r for r in rows if r["dimension_value"] == "www.ssa.gov/myaccount/")
    src = next(
        s
        for s in _csv("social-security-administration_top-landing-pages-30-days.csv")
        if s["landing_page"] == "/myaccount/"
    )
    assert myaccount["bounce_rate"] == float(src["bounce_rate"])

    # devices per day; traffic sources keep their channel group
    devices = [r for r in rows if r["report"] == "devices"]
    assert {(r["day"], r["dimension_value"], r["visits"]) for r in devices} == {
        (_day(s["date"]), s["device"], int(s["visits"])) for s in _csv("veterans-affairs_devices.csv")
    }
    sources = [r for r in rows if r["report"] == "top-traffic-sources-30-days"]
    assert sorted((r["dimension_value"], r["session_default_channel_group"], r["visits"]) for r in sources) == sorted(
        (s["source"], s["session_default_channel_group"], int(s["visits"]))
        for s in _csv("veterans-affairs_top-traffic-sources-30-days.csv")
    )


def test_dap_json_reports(lake):
    settings, catalog = lake
    ingest_feed(settings, catalog, "us_dap", str(DAP))
    rows = _rows(catalog)

    # was this page helpful: answers counted as events; the window is the query's (60 days)
    helpful = _json("analytics.usa.gov_was-this-page-helpful-30-days.json")
    taken = dt.datetime.fromisoformat(helpful["taken_at"].replace("Z", "+00:00")).astimezone(
        ZoneInfo("America/New_York")
    )
    answers = [r for r in rows if r["property"] == "analytics.usa.gov"]
    assert len(answers) == len(helpful["data"])
    assert {r["day"] for r in answers} == {dt.datetime.combine(taken.date() - dt.timedelta(days=1), dt.time())}
    assert {r["period_days"] for r in answers} == {60}
    assert {r["dimension"] for r in answers} == {"answer"}
    totals: dict[str, int] = {}
    for r in answers:
        totals[r["dimension_value"]] = totals.get(r["dimension_value"], 0) + r["events"]
        assert r["visits"] is None
    assert totals == helpful["totals"]["by_customEvent:event_label"]
    home_yes = next(r for r in answers if r["page_path"] == "/" and r["dimension_value"] == "yes")
    src = next(d for d in helpful["data"] if d["pagePath"] == "/" and d["customEvent:event_label"] == "yes")
    assert home_yes["events"] == int(src["total_events"])

    # channel groups: the data list is empty, the breakdown is in the totals
    channel = _json("live_top-session-channel-group-30-days.json")
    groups = {r["dimension_value"]: r["visits"] for r in rows if r["report"] == "top-session-channel-group-30-days"}
    assert groups == channel["totals"]["by_session_default_channel_group"]
    assert sum(groups.values()) == channel["totals"]["visits"]

    rate = next(r for r in rows if r["report"] == "engagement-rate-30-days")
    assert rate["engagement_rate"] == float(_json("live_engagement-rate-30-days.json")["data"][0]["engagementRate"])
    assert rate["period_days"] == 30
    daily = [r for r in rows if r["report"] == "daily-sessions-30-days"]
    assert sorted((r["day"], r["visits"]) for r in daily) == sorted(
        (_day(d["date"]), int(d["visits"])) for d in _json("live_daily-sessions-30-days.json")["data"]
    )


def test_an_undated_report_alone_needs_a_date(lake, tmp_path):
    settings, catalog = lake
    alone = tmp_path / "veterans-affairs_sites.csv"
    shutil.copy(DAP / alone.name, alone)
    with pytest.raises(SourceFileError, match="veterans-affairs_sites.csv.*no date"):
        ingest_feed(settings, catalog, "us_dap", str(alone))
    dated = tmp_path / "veterans-affairs_sites_2024-01-04.csv"
    shutil.copy(DAP / alone.name, dated)
    records = ingest_feed(settings, catalog, "us_dap", str(dated))
    src = _csv(alone.name)
    assert sum(r.loaded for r in records) == len(src) == 261
    rows = _rows(catalog, "us_dap:veterans-affairs_sites_2024-01-04")
    assert {(r["day"], r["period_days"], r["dimension"]) for r in rows} == {(dt.datetime(2024, 1, 4), 30, "domain")}
    assert {r["dimension_value"]: r["visits"] for r in rows} == {s["domain"]: int(s["visits"]) for s in src}


def test_a_percent_bounce_rate_is_quarantined(lake, tmp_path):
    settings, catalog = lake
    bad = tmp_path / "agency_top-landing-pages-30-days_2024-01-04.csv"
    bad.write_text("domain,landing_page,visits,bounce_rate\nwww.agency.gov,/,100,0.45\nwww.agency.gov,/apply,80,45\n")
    records = ingest_feed(settings, catalog, "us_dap", str(bad))
    assert [(r.received, r.loaded, r.quarantined) for r in records] == [(2, 1, 1)]
    [q] = catalog.load_table("quarantine.rejected_rows").scan().to_arrow().to_pylist()
    assert q["column"] == "bounce_rate" and "'45.0' fails less_than_or_equal_to" in q["message"]
