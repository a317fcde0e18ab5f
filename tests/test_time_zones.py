"""Time zones and epoch units (issue 18, item 11): text times with offsets are converted
to the source's declared zone value by value, numbers are epoch times only in a declared
unit and zone, and nothing undeclared is guessed. Expected values come from zoneinfo."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import polars as pl
import pytest

from contracts.coerce import coerce, epoch_times, local_times, time_zone_error, utc_offsets

NY = "America/New_York"
T = {"t": pl.Datetime("us")}


def _local(text: str, zone: str = NY) -> dt.datetime:
    """The wall-clock time in `zone` of an ISO text with an offset, by the standard library."""
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(ZoneInfo(zone)).replace(tzinfo=None)


def test_offsets_are_spelled_one_way():
    got = utc_offsets(pl.Series(["2024-03-10T01:00:00Z", "2024-03-10T01:00:00+0000", "x-05:00", "2024-03-10"]))
    assert got.to_list() == ["+00:00", "+00:00", "-05:00", None]


def test_mixed_offsets_across_a_dst_change_are_read_in_the_declared_zone():
    # New York springs forward on 2024-03-10 at 02:00; one producer writes UTC, another local offsets
    text = [
        "2024-03-10T06:50:00Z",
        "2024-03-10T01:55:00-05:00",
        "2024-03-10T03:05:00-04:00",
        "2024-03-10T07:20:00+00:00",
        "2024-03-10 12:00:00",  # no offset: local time of the declared zone
    ]
    typed, failures = coerce(pl.DataFrame({"t": text}), T, time_zone=NY)
    assert failures.height == 0
    expected = [_local(v) for v in text[:4]] + [dt.datetime(2024, 3, 10, 12)]
    assert typed["t"].to_list() == expected
    assert expected[0] == dt.datetime(2024, 3, 10, 1, 50) and expected[3] == dt.datetime(2024, 3, 10, 3, 20)


def test_undeclared_mixed_offsets_are_quarantined_and_one_offset_keeps_its_wall_clock():
    frame = pl.DataFrame(
        {"a": ["2024-03-10T06:50:00Z", "2024-03-10T08:00:00"], "b": ["2024-03-10T03:05:00-04:00", None]}
    )
    typed, failures = coerce(frame, {"a": pl.Datetime("us"), "b": pl.Datetime("us")})
    assert sorted(failures.select("index", "rule", "column").rows()) == [
        (0, "mixed_offsets", "a"),
        (0, "mixed_offsets", "b"),
    ]
    assert typed["a"].to_list() == [None, dt.datetime(2024, 3, 10, 8)]
    same = pl.DataFrame({"t": ["2012-05-23T15:55:28-04:00", "2012-12-01T09:00:00-04:00"]})
    typed, failures = coerce(same, T)
    assert failures.height == 0
    assert typed["t"].to_list() == [dt.datetime(2012, 5, 23, 15, 55, 28), dt.datetime(2012, 12, 1, 9)]


@pytest.mark.parametrize("unit,scale", [("s", 1), ("ms", 1_000), ("us", 1_000_000), ("ns", 1_000_000_000)])
def test_epoch_numbers_are_read_in_the_declared_unit_and_zone(unit, scale):
    instant = dt.datetime(2024, 7, 4, 16, 30, tzinfo=dt.UTC)
    number = int(instant.timestamp()) * scale
    typed, failures = coerce(pl.DataFrame({"t": [number, None]}), T, time_zone=NY, epoch_unit=unit)
    assert failures.height == 0
    assert typed["t"].to_list() == [instant.astimezone(ZoneInfo(NY)).replace(tzinfo=None), None]
    text, failures = coerce(pl.DataFrame({"t": [str(number), "2024-07-04 12:00"]}), T, time_zone=NY, epoch_unit=unit)
    assert failures.height == 0 and text["t"].to_list()[0] == typed["t"][0]


def test_an_epoch_number_without_its_unit_or_zone_is_quarantined_never_guessed():
    numbers = pl.DataFrame({"t": [1_710_000_000, 1_720_000_000]})
    for declared in ({}, {"epoch_unit": "s"}, {"time_zone": NY}):
        typed, failures = coerce(numbers, T, **declared)
        assert typed["t"].null_count() == 2
        assert failures["rule"].to_list() == ["undeclared_epoch"] * 2
    text = pl.DataFrame({"t": ["1710000000", "2024-03-01 10:00"]})
    typed, failures = coerce(text, T)
    assert failures.rows() == [(0, "undeclared_epoch", "t", "1710000000")]
    assert typed["t"].to_list() == [None, dt.datetime(2024, 3, 1, 10)]


def test_typed_parquet_times_keep_their_unit_and_zone():
    instant = dt.datetime(2024, 11, 3, 5, 30, tzinfo=dt.UTC)
    frame = pl.DataFrame(
        {
            "naive_s": pl.Series([int(instant.timestamp()) * 1000]).cast(pl.Datetime("ms")),
            "utc": pl.Series([instant]).cast(pl.Datetime("ms", "UTC")),
        }
    )
    cols = {"naive_s": pl.Datetime("us"), "utc": pl.Datetime("us")}
    typed, failures = coerce(frame, cols, time_zone=NY)
    assert failures.height == 0
    assert typed["utc"].to_list() == [instant.astimezone(ZoneInfo(NY)).replace(tzinfo=None)]
    assert typed["naive_s"].to_list() == [instant.replace(tzinfo=None)]  # no zone: read as written
    undeclared, _ = coerce(frame, cols)
    assert undeclared["utc"].to_list() == [instant.replace(tzinfo=None)]  # the zone the file states


def test_pure_helpers():
    assert time_zone_error("Europe/Madrid") is None
    assert "not an IANA time zone" in (time_zone_error("Mars/Olympus") or "")
    assert "IANA name" in (time_zone_error(5) or "")
    instant = dt.datetime(2024, 1, 15, 12, tzinfo=dt.UTC)
    assert local_times(pl.Series([instant.replace(tzinfo=None)]), "Europe/Madrid").to_list() == [
        dt.datetime(2024, 1, 15, 13)
    ]
    assert epoch_times(pl.Series([1.5]), "s", "UTC").to_list() == [dt.datetime(1970, 1, 1, 0, 0, 1, 500000)]


def test_the_dst_corpus_case_gives_negative_waits_when_offsets_are_dropped():
    """The bad-file case is a real trap: read at their written wall clocks (the offsets
    dropped, as before), some calls come before their tickets."""
    import csv

    from tests.bad_files.cases import CASES

    [case] = [c for c in CASES if c.name == "offsets_mixed_across_dst_declared_zone"]
    rows = list(csv.DictReader(case.content.decode().splitlines()))
    wall = [
        (
            dt.datetime.fromisoformat(r["called_at"]).replace(tzinfo=None)
            - dt.datetime.fromisoformat(r["issued_at"][:-1])
        )
        for r in rows
    ]
    assert sum(w < dt.timedelta(0) for w in wall) == len(rows)  # every wait, read so, is negative


def test_a_feed_declares_its_time_zone_and_epoch_unit_in_feeds_yml(tmp_path):
    from orchestration.load.feeds import FeedsConfigError, parse_feeds

    entry = {"name": "nyc", "kind": "nyc311", "location": str(tmp_path), "time_zone": NY, "epoch_unit": "ms"}
    [feed] = parse_feeds({"sources": [entry]}, tmp_path / "feeds.yml")
    assert (feed.time_zone, feed.epoch_unit) == (NY, "ms")
    with pytest.raises(FeedsConfigError, match=r"sources\[0\] \(nyc\): `time_zone` 'EST5' is not an IANA"):
        parse_feeds({"sources": [{**entry, "time_zone": "EST5"}]}, tmp_path / "feeds.yml")
    with pytest.raises(FeedsConfigError, match="`epoch_unit` must be one of s, ms, us, ns, got 'sec'"):
        parse_feeds({"sources": [{**entry, "epoch_unit": "sec"}]}, tmp_path / "feeds.yml")


def test_a_feed_declares_its_zone_in_feeds_yml_and_a_refresh_reads_its_offsets_in_it(civic_home, lake):
    """End to end through load_feeds: Open311 requests (real Bloomington records, moved to
    the spring-forward day of 2024) written half in UTC and half with local offsets load
    with the local times zoneinfo gives; the same file undeclared is quarantined."""
    import json
    import shutil

    from orchestration.load.flow import load_feeds
    from tests.conftest import REALDATA, quarantined_rows, source_rows

    zone = ZoneInfo("America/Indiana/Indianapolis")
    folder = civic_home / "bloomington"
    folder.mkdir(parents=True)
    shutil.copy(REALDATA / "open311_bloomington" / "bloomington_services.json", folder / "services.json")
    records = json.loads((REALDATA / "open311_bloomington" / "bloomington_requests.json").read_text())
    expected = {}
    for i, record in enumerate(records):
        requested = dt.datetime(2024, 3, 10, 5, 40, tzinfo=dt.UTC) + dt.timedelta(minutes=11 * i)
        closed = requested + dt.timedelta(minutes=25)
        # odd rows: requested in UTC and closed with the local offset; even rows the other way
        utc, local = (requested, closed) if i % 2 else (closed, requested)
        written = {utc: utc.isoformat().replace("+00:00", "Z"), local: local.astimezone(zone).isoformat()}
        record["requested_datetime"], record["updated_datetime"] = written[requested], written[closed]
        record["status"] = "closed"
        local = [t.astimezone(zone).replace(tzinfo=None) for t in (requested, closed)]
        expected[record["service_request_id"]] = tuple(local)
    (folder / "requests.json").write_text(json.dumps(records))
    (civic_home / "feeds.yml").write_text(
        "sources:\n"
        f"  - {{name: bton, kind: open311, location: '{folder}', time_zone: America/Indiana/Indianapolis, service_id_prefix: 'bton:'}}\n"
        f"  - {{name: bton-undeclared, kind: open311, location: '{folder}', service_id_prefix: 'bton:'}}\n"
    )
    from lake.settings import load_settings

    settings, catalog = load_settings(), lake[1]
    load_feeds(settings, catalog, "services", [2024])
    by_feed = {r.source: r for r in load_feeds(settings, catalog, "service_requests", [2024])}
    assert (by_feed["bton"].received, by_feed["bton"].loaded) == (len(records), len(records))
    rows = source_rows(catalog, "raw.service_requests", "bton")
    assert {r["request_id"]: (r["requested_at"], r["closed_at"]) for r in rows} == expected
    assert all(closed > requested for requested, closed in expected.values())
    assert by_feed["bton-undeclared"].loaded == 0
    rules = {r["rule"] for r in quarantined_rows(catalog, "bton-undeclared")}
    assert rules == {"mixed_offsets"}
