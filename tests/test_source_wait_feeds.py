"""Queue and wait-time feeds (CA DMV XML and CSV, MA RMV XML) into `wait_observations`:
counts and values checked against the files read here with the standard library, the
truncated second document quarantined as one fragment, and row accounting."""

import csv
import datetime as dt
import json
import shutil
import statistics
import xml.etree.ElementTree as ET
from zoneinfo import ZoneInfo

import pytest
from conftest import REALDATA, source_rows
from conftest import assert_balanced as _balanced
from conftest import quarantined_rows as _quarantined

from ingestion.errors import SourceFileError
from ingestion.feeds.ma_rmv import rmv_wait
from ingestion.feeds.wait_feeds import hh_mm_minutes, hh_mm_ss_minutes, time_in_name
from orchestration.load.flow import ingest_feed

CA = REALDATA / "ca_dmv_queue_feed"
MA = REALDATA / "ma_rmv_queue_feed"


# --- pure parsers -----------------------------------------------------------------------


def test_hh_mm_as_minutes():
    assert hh_mm_minutes("01:27") == 87.0
    assert hh_mm_minutes("00:31") == 31.0
    assert hh_mm_minutes("00:00") == 0.0
    assert hh_mm_minutes(" 00:08 ") == 8.0
    assert hh_mm_minutes("") is None and hh_mm_minutes(None) is None
    for bad in ("1:75", "abc", "00:00:10", "-0:05"):
        with pytest.raises(ValueError):
            hh_mm_minutes(bad)


def _rows(catalog, source: str) -> list[dict]:
    return source_rows(catalog, "raw.wait_observations", source)


def test_hh_mm_ss_as_minutes_and_rmv_values():
    assert hh_mm_ss_minutes("00:02:18") == pytest.approx(2.3)
    assert hh_mm_ss_minutes("01:24:15") == pytest.approx(84.25)
    assert hh_mm_ss_minutes("02:25:08") == pytest.approx(145 + 8 / 60)
    assert hh_mm_ss_minutes("00:00:00") == 0.0
    for bad in ("00:61:00", "12:30", "Closed"):
        with pytest.raises(ValueError):
            hh_mm_ss_minutes(bad)
    # the publisher's widget: Closed = closed, 00:00:00 = no wait, blank = unavailable
    assert rmv_wait("Closed") == (None, "closed")
    assert rmv_wait(" closed ") == (None, "closed")
    assert rmv_wait("00:00:00") == (0.0, "open")
    assert rmv_wait("") == (None, "unavailable") and rmv_wait(None) == (None, "unavailable")
    with pytest.raises(ValueError):
        rmv_wait("N/A")


def test_time_in_file_name():
    assert time_in_name("ca_dmv_2018-12-11T10-00.xml") == dt.datetime(2018, 12, 11, 10, 0)
    assert time_in_name("rmv_2017-03-01_10:15:30.xml") == dt.datetime(2017, 3, 1, 10, 15, 30)
    assert time_in_name("feed_20181211T101502.xml") == dt.datetime(2018, 12, 11, 10, 15, 2)
    assert time_in_name("rmv_waittime.xml") is None
    assert time_in_name("feed_2018-13-11T10-00.xml") is None  # no 13th month
    assert time_in_name("feed_2018-12-11.xml") is None  # a day is not a snapshot time


# --- CA DMV XML ---------------------------------------------------------------------------


def _first_document(data: bytes) -> tuple[bytes, int]:
    end = data.index(b"</branches>") + len(b"</branches>")
    rest = data[end:]
    return data[:end], end + len(rest) - len(rest.lstrip())


def _minutes(text: str) -> float:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def test_ca_dmv_xml_first_document_loaded_rest_quarantined_as_one_fragment(lake, tmp_path):
    settings, catalog = lake
    feed = tmp_path / "ca_dmv_waittimes_2018-12-11T10-00.xml"
    shutil.copy(CA / "ca_dmv_waittimes_feed_response.xml", feed)
    data = feed.read_bytes()
    first, fragment_at = _first_document(data)
    root = ET.fromstring(first)
    categories = [(b, c) for b in root.findall("branch") for c in b.iter("category")]
    assert len(root.findall("branch")) == 178 and len(categories) == 2628

    records = ingest_feed(settings, catalog, "ca_dmv_xml", str(feed))
    _balanced(records)
    assert sum(r.received for r in records) == 2 * len(categories) + 1
    assert sum(r.loaded for r in records) == 2 * len(categories)
    assert sum(r.quarantined for r in records) == 1

    source = "ca_dmv_xml:ca_dmv_waittimes_2018-12-11T10-00"
    [fragment] = _quarantined(catalog, source)
    assert fragment["rule"] == "source_rejected"
    assert fragment["message"].startswith(f"second XML document truncated at byte {fragment_at}: not well-formed")
    assert f"bytes {fragment_at}-{len(data)}" in fragment["message"]
    assert json.loads(fragment["row"])["fragment_bytes"] == str(len(data) - fragment_at)

    got = {(r["site_id"], r["category_id"], r["wait_kind"]): r for r in _rows(catalog, source)}
    assert len(got) == 2 * len(categories)
    assert {r["observed_at"] for r in got.values()} == {dt.datetime(2018, 12, 11, 10, 0)}
    # the longest estimated wait of the feed, hours:minutes read as minutes
    branch, cat = max(categories, key=lambda bc: _minutes(bc[1].findtext("estimated-wait-time")))
    est = got[(branch.get("id"), cat.get("id"), "estimated")]
    act = got[(branch.get("id"), cat.get("id"), "actual")]
    assert est["wait_minutes"] == _minutes(cat.findtext("estimated-wait-time")) > 60
    assert act["wait_minutes"] == _minutes(cat.findtext("real-wait-time"))
    assert est["site_name"] == branch.get("name") and est["service_id"] == cat.get("name")
    for row in (est, act):
        assert row["customers_waiting"] == int(cat.findtext("customers-waiting"))
        assert row["customers_served"] == int(cat.findtext("customers-served"))
        assert row["open_counters"] == int(cat.findtext("open-counters"))
        assert row["mean_service_minutes"] == _minutes(cat.findtext("avg-transaction-time"))
    # every figure of the document, not only one
    for b, c in categories:
        assert got[(b.get("id"), c.get("id"), "actual")]["wait_minutes"] == _minutes(c.findtext("real-wait-time"))


def test_ca_dmv_xml_times_are_hours_and_minutes(lake, tmp_path):
    """The response's own minute list (office number, appointment, walk-in minutes, after
    the documents) agrees with reading the XML times as hh:mm, not mm:ss."""
    settings, catalog = lake
    feed = tmp_path / "ca_dmv_2018-12-11T10-00.xml"
    shutil.copy(CA / "ca_dmv_waittimes_feed_response.xml", feed)
    ingest_feed(settings, catalog, "ca_dmv_xml", str(feed))
    data = feed.read_bytes()
    tail = data[data.rindex(b"</branches>") + len(b"</branches>") :].decode()
    walk_in = {parts[0]: int(parts[2]) for parts in (line.split(",") for line in tail.split() if line)}
    with open(CA / "cadmv_branches.csv", newline="") as fh:
        number = {r["name"].upper(): r["number"] for r in csv.DictReader(fh)}
    pairs = [
        (r["wait_minutes"], walk_in[number[r["site_name"]]])
        for r in _rows(catalog, "ca_dmv_xml:ca_dmv_2018-12-11T10-00")
        if r["service_id"] == "G - DL" and r["wait_kind"] == "actual" and number.get(r["site_name"]) in walk_in
    ]
    assert len(pairs) > 100
    loaded, listed = statistics.mean(p[0] for p in pairs), statistics.mean(p[1] for p in pairs)
    assert 0.5 < loaded / listed < 2  # mm:ss would make it 1/60
    assert statistics.correlation([p[0] for p in pairs], [p[1] for p in pairs]) > 0.8


def test_a_feed_without_a_time_fails_naming_the_file(lake, tmp_path):
    settings, catalog = lake
    for kind, original in (
        ("ca_dmv_xml", CA / "ca_dmv_waittimes_feed_response.xml"),
        ("ma_rmv_xml", MA / "rmv_waittime.xml"),
    ):
        with pytest.raises(SourceFileError, match=f"{original.name}.*no observation time"):
            ingest_feed(settings, catalog, kind, str(original))
    assert not catalog.table_exists("raw.wait_observations")


def test_the_real_files_as_they_are_with_the_time_stated_on_the_command_line(lake, capsys):
    from orchestration.cli import main

    feed = MA / "rmv_waittime.xml"
    branches = ET.parse(feed).getroot().findall("branch")
    assert main(["ingest", "--source", "ma_rmv_xml", str(feed), "--observed-at", "2017-03-01T10:15"]) == 0
    assert f"received {2 * len(branches):,} = loaded {2 * len(branches):,} + quarantined 0" in capsys.readouterr().out
    settings, catalog = lake
    rows = catalog.load_table("raw.wait_observations").scan().to_arrow().to_pylist()
    assert {r["observed_at"] for r in rows} == {dt.datetime(2017, 3, 1, 10, 15)}
    with pytest.raises(SystemExit):  # argparse refuses it with a message
        main(
            [
                "ingest",
                "--source",
                "ca_dmv_xml",
                str(CA / "ca_dmv_waittimes_feed_response.xml"),
                "--observed-at",
                "not a time",
            ]
        )
    assert "not a date and time" in capsys.readouterr().err


def test_a_broken_first_document_fails_the_file(lake, tmp_path):
    settings, catalog = lake
    feed = tmp_path / "ca_dmv_2018-12-11T10-00.xml"
    feed.write_bytes((CA / "ca_dmv_waittimes_feed_response.xml").read_bytes()[:5000])
    with pytest.raises(SourceFileError, match="ca_dmv_2018-12-11T10-00.xml.*not well-formed"):
        ingest_feed(settings, catalog, "ca_dmv_xml", str(feed))
    assert not catalog.table_exists("raw.wait_observations")


# --- MA RMV XML ---------------------------------------------------------------------------


def test_ma_rmv_xml(lake, tmp_path):
    settings, catalog = lake
    feed = tmp_path / "rmv_waittime_2017-03-01T10-15.xml"
    shutil.copy(MA / "rmv_waittime.xml", feed)
    branches = ET.parse(feed).getroot().findall("branch")
    assert len(branches) == 29
    records = ingest_feed(settings, catalog, "ma_rmv_xml", str(feed))
    _balanced(records)
    assert sum(r.loaded for r in records) == sum(r.received for r in records) == 2 * len(branches)
    got = {(r["site_id"], r["service_id"]): r for r in _rows(catalog, "ma_rmv_xml:rmv_waittime_2017-03-01T10-15")}
    for b in branches:
        for service in ("licensing", "registration"):
            h, m, s = (int(x) for x in b.findtext(service).split(":"))
            row = got[(b.findtext("town"), service)]
            assert row["wait_minutes"] == pytest.approx(h * 60 + m + s / 60)
            assert row["observed_at"] == dt.datetime(2017, 3, 1, 10, 15)
            assert row["wait_kind"] == "estimated" and row["branch_status"] == "open"
    assert got[("Lowell", "registration")]["wait_minutes"] == pytest.approx(145 + 8 / 60)


def test_ma_rmv_closed_and_unreadable_values(lake, tmp_path):
    settings, catalog = lake
    feed = tmp_path / "rmv_2017-03-01T10-15.xml"
    feed.write_text(
        '<?xml version="1.0"?><branches>'
        "<branch><town>Boston</town><licensing>Closed</licensing><registration>00:10:30</registration></branch>"
        "<branch><town>Lowell</town><licensing></licensing><registration>soon</registration></branch>"
        "</branches>"
    )
    records = ingest_feed(settings, catalog, "ma_rmv_xml", str(feed))
    _balanced(records)
    got = {(r["site_id"], r["service_id"]): r for r in _rows(catalog, "ma_rmv_xml:rmv_2017-03-01T10-15")}
    assert got[("Boston", "licensing")]["wait_minutes"] is None
    assert got[("Boston", "licensing")]["branch_status"] == "closed"
    assert got[("Boston", "registration")]["wait_minutes"] == 10.5
    assert got[("Lowell", "licensing")]["branch_status"] == "unavailable"
    [bad] = _quarantined(catalog, "ma_rmv_xml:rmv_2017-03-01T10-15")
    assert bad["rule"] == "type" and "'soon'" in bad["message"]


# --- CA DMV CSV time series -----------------------------------------------------------------


def test_ca_dmv_csv_time_series(lake):
    settings, catalog = lake
    with open(CA / "cadmv_wait_times.csv", newline="") as fh:
        waits = list(csv.DictReader(fh))
    with open(CA / "cadmv_branches.csv", newline="") as fh:
        offices = {r["number"]: r for r in csv.DictReader(fh)}
    assert len(waits) == 97_881 and len(offices) == 178

    records = ingest_feed(settings, catalog, "ca_dmv_csv", str(CA))
    _balanced(records)
    assert sum(r.received for r in records) == sum(r.loaded for r in records) == 2 * len(waits)

    table = (
        catalog.load_table("raw.wait_observations")
        .scan(
            selected_fields=(
                "observation_id",
                "site_id",
                "site_name",
                "region",
                "observed_at",
                "wait_kind",
                "wait_minutes",
                "_source",
            ),
        )
        .to_arrow()
    )
    rows = [r for r in table.to_pylist() if r["_source"] == "ca_dmv_csv:ca_dmv_queue_feed"]
    walk_in = [r["wait_minutes"] for r in rows if r["wait_kind"] == "walk_in"]
    appointment = [r["wait_minutes"] for r in rows if r["wait_kind"] == "appointment"]
    assert len(walk_in) == len(appointment) == len(waits)
    expected_mean = statistics.mean(int(r["non_appt"]) for r in waits)
    assert statistics.mean(walk_in) == pytest.approx(expected_mean)
    assert round(expected_mean, 1) == 17.2  # PROVENANCE
    assert max(walk_in) == max(int(r["non_appt"]) for r in waits) == 181
    assert statistics.mean(appointment) == pytest.approx(statistics.mean(int(r["appt"]) for r in waits))

    first = waits[0]
    row = next(r for r in rows if r["observation_id"] == f"ca_dmv:wait_times:{first['id']}:walk_in")
    office = offices[first["branch_id"]]
    assert (row["site_id"], row["site_name"], row["region"]) == (first["branch_id"], office["name"], office["region"])
    # stored UTC, loaded as Pacific wall-clock time
    utc = dt.datetime.fromisoformat(first["timestamp"]).replace(tzinfo=dt.UTC)
    assert row["observed_at"] == utc.astimezone(ZoneInfo("America/Los_Angeles")).replace(tzinfo=None)
    assert row["wait_minutes"] == int(first["non_appt"])
