"""Published-source parsers on files of the wrong shape (issue 18 items 17 and 19): a
value of the wrong JSON type quarantines its row with the reason, a file that is not
what its kind reads (no Unique Key column, an HTML error page saved as requests.xml,
an XML entity that cannot be resolved) fails in one line naming the file."""

from __future__ import annotations

import json

import pytest

from contracts.entities import entity
from contracts.rules import LoadContext
from ingestion.errors import SourceFileError
from ingestion.feeds import feed_kind
from ingestion.pseudonymise import load_keyring
from ingestion.staging import validate_batches
from tests.conftest import TEST_PSEUDONYM_KEY

KEYRING = load_keyring(TEST_PSEUDONYM_KEY, None)
HTML = b"<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head><body><p>Bad gateway</p></body></html>\n"


def _load(kind: str, path, entity_name: str = "service_requests", **kw):
    batches = feed_kind(kind, **kw).extract(str(path), entity_name)
    valid = rejected = 0
    reasons: list[str] = []
    for _path, received, ok, bad in validate_batches(entity(entity_name), batches, LoadContext(None), KEYRING):
        assert received == ok.height + bad.height
        valid += ok.height
        rejected += bad.height
        reasons += bad["message"].to_list()
    return valid, rejected, reasons


def _nyc(i: int, status) -> dict:
    return {
        "unique_key": str(1000 + i),
        "created_date": "2024-05-27T02:08:51.000",
        "agency": "DOT",
        "complaint_type": "Street Condition",
        "status": status,
        "open_data_channel_type": "PHONE",
    }


@pytest.mark.parametrize("bad", [3, {"code": "closed"}, ["Open"]])
def test_nyc311_json_with_a_status_not_text_quarantines_that_row(tmp_path, bad):
    path = tmp_path / "311_requests.json"
    path.write_text(json.dumps([_nyc(0, "Open"), _nyc(1, bad), _nyc(2, "Closed")]))
    valid, rejected, reasons = _load("nyc311", path)
    assert (valid, rejected) == (2, 1)
    assert reasons == [f"status {json.dumps(bad) if not isinstance(bad, int) else bad} is not text: not loaded"]


def test_nyc311_csv_without_unique_key_fails_naming_the_file(tmp_path):
    path = tmp_path / "311_export.csv"
    path.write_text("Created Date,Agency,Complaint Type,Status,Closed Date\n05/27/2024 02:08:51 AM,DOT,Noise,Open,\n")
    with pytest.raises(SourceFileError, match=r"311_export\.csv: not a NYC 311 export: no Unique Key column"):
        _load("nyc311", path)


def test_open311_json_with_a_numeric_status_quarantines_that_row(tmp_path):
    rows = [
        {
            "service_request_id": f"R{i}",
            "service_code": "S1",
            "requested_datetime": "2024-05-01T10:00:00-04:00",
            "status": "open" if i != 1 else 7,
            "address": "1 Main St" if i != 2 else {"street": "Main"},
        }
        for i in range(4)
    ]
    path = tmp_path / "requests.json"
    path.write_text(json.dumps(rows))
    valid, rejected, reasons = _load("open311", path)
    assert (valid, rejected) == (2, 2)
    assert sorted(reasons) == ['address {"street": "Main"} is not text: not loaded', "status 7 is not text: not loaded"]


def test_an_html_error_page_saved_as_requests_xml_fails_naming_the_file(tmp_path):
    path = tmp_path / "requests.xml"
    path.write_bytes(HTML.replace(b"<!DOCTYPE html>\n", b""))  # well-formed, but not GeoReport
    with pytest.raises(SourceFileError, match=r"requests\.xml: not a GeoReport <service_requests> document.*<html>"):
        _load("open311", path)
    path.write_bytes(HTML)  # as served: not even XML
    with pytest.raises(SourceFileError, match=r"requests\.xml"):
        _load("open311", path)


def test_ca_dmv_xml_with_an_unresolvable_entity_fails_naming_the_file(tmp_path):
    path = tmp_path / "ca_dmv_waittimes_2018-12-11T10-00.xml"
    path.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE branches [<!ENTITY x SYSTEM "file:///etc/hostname">]>\n'
        "<branches><branch><name>&x;</name></branch></branches>\n"
    )
    with pytest.raises(SourceFileError, match=r"ca_dmv_waittimes_2018-12-11T10-00\.xml: not readable XML"):
        list(feed_kind("ca_dmv_xml").extract(str(path), "wait_observations"))


def test_a_feed_declares_its_date_order_in_feeds_yml(tmp_path):
    from orchestration.load.feeds import FeedsConfigError, parse_feeds

    entry = {"name": "eu", "kind": "nyc311", "location": str(tmp_path), "date_order": "dmy"}
    [feed] = parse_feeds({"sources": [entry]}, tmp_path / "feeds.yml")
    assert feed.date_order == "dmy"
    with pytest.raises(FeedsConfigError, match="`date_order` must be one of mdy, dmy, got 'ymd'"):
        parse_feeds({"sources": [{**entry, "date_order": "ymd"}]}, tmp_path / "feeds.yml")
    assert feed_kind("nyc311").date_order == "mdy" and feed_kind("open311").date_order is None
