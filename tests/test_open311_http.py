"""Open311 GeoReport v2 over HTTP: a real server on 127.0.0.1 serves the real Bloomington
(JSON) and San Francisco (XML) files as endpoints, honouring start_date/end_date,
updated_after, page and a cap on requests per answer, and failing on purpose (503s, a
too-slow answer). The client must page or split its windows, retry, keep a cursor and
hand over exactly the files' requests; an endpoint that stays down loads nothing."""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
import time
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from conftest import REALDATA, expected_pseudonym, source_rows

from ingestion.feeds.open311_http import EndpointError
from lake.settings import load_settings
from orchestration.cli import main
from orchestration.load.flow import ingest_feed

BLOOMINGTON = REALDATA / "open311_bloomington"
SAN_FRANCISCO = REALDATA / "open311_sanfrancisco"
SERVER_CAP = 5  # the most requests the test server answers per call
TIMEOUT = 0.5  # the client's timeout in these tests; the slow answer takes longer
FAST = f"timeout={TIMEOUT}&backoff=0.01&attempts=4"
UTC = dt.UTC


def _utc(text: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class GeoReport:
    """The test's own GeoReport v2 server over the real files (stdlib only)."""

    def __init__(self):
        self.bloomington = json.loads((BLOOMINGTON / "bloomington_requests.json").read_text())
        self.sf_requests = ET.parse(SAN_FRANCISCO / "san_francisco_requests.xml").getroot().findall("request")
        self.faults: dict[str, list[str]] = {}  # path -> what its next calls do ("503", "slow")
        self.log: list[dict] = []  # every call: path, query, status, rows answered
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.answer(self)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.handle_error = lambda request, address: None  # the client left a slow answer
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, city: str) -> str:
        return f"http://127.0.0.1:{self.port}/{city}/v2"

    def calls(self, path_end: str) -> list[dict]:
        return [c for c in self.log if c["path"].endswith(path_end)]

    def answer(self, h: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(h.path)
        query = dict(parse_qsl(parts.query))
        entry = {"path": parts.path, "query": query, "status": 200, "rows": None}
        with self.lock:
            self.log.append(entry)
            fault = (self.faults.get(parts.path) or [None]).pop(0) if self.faults.get(parts.path) else None
        if fault == "503" or parts.path.startswith("/down/"):
            entry["status"] = 503
            return self._send(h, 503, b"busy", "text/plain")
        if fault == "slow":
            time.sleep(TIMEOUT * 3)
        routes = {
            "/bloomington/v2/services.json": lambda: ((BLOOMINGTON / "bloomington_services.json").read_bytes(), None),
            "/bloomington/v2/requests.json": lambda: self._json_requests(query),
            "/sanfrancisco/v2/services.xml": lambda: (
                (SAN_FRANCISCO / "san_francisco_services.xml").read_bytes(),
                None,
            ),
            "/sanfrancisco/v2/requests.xml": lambda: self._xml_requests(query),
        }
        if parts.path not in routes:
            entry["status"] = 404
            return self._send(h, 404, b"[]", "application/json")
        body, rows = routes[parts.path]()
        entry["rows"] = rows
        self._send(h, 200, body, "text/xml" if parts.path.endswith(".xml") else "application/json")

    @staticmethod
    def _send(h, status: int, body: bytes, ctype: str) -> None:
        try:
            h.send_response(status)
            h.send_header("Content-Type", ctype)
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            h.wfile.write(body)
        except OSError:
            pass  # the client gave up on a slow answer

    @staticmethod
    def _select(items, query, requested, updated):
        """GeoReport semantics: start/end on requested_datetime (inclusive), newest first,
        updated_after on updated_datetime, at most SERVER_CAP per answer, `page` from 1."""
        start = _utc(query["start_date"]) if "start_date" in query else None
        end = _utc(query["end_date"]) if "end_date" in query else None
        after = _utc(query["updated_after"]) if "updated_after" in query else None
        chosen = [
            r
            for r in items
            if (start is None or _utc(requested(r)) >= start)
            and (end is None or _utc(requested(r)) <= end)
            and (after is None or (updated(r) and _utc(updated(r)) > after))
        ]
        chosen.sort(key=lambda r: _utc(requested(r)), reverse=True)
        size = min(SERVER_CAP, int(query.get("page_size", SERVER_CAP)))
        page = int(query.get("page", 1))
        return chosen[(page - 1) * size : page * size]

    def _json_requests(self, query):
        rows = self._select(self.bloomington, query, lambda r: r["requested_datetime"], lambda r: r["updated_datetime"])
        return json.dumps(rows).encode(), len(rows)

    def _xml_requests(self, query):
        rows = self._select(
            self.sf_requests,
            query,
            lambda e: e.findtext("requested_datetime"),
            lambda e: e.findtext("updated_datetime"),
        )
        root = ET.Element("service_requests")
        root.extend(rows)
        return ET.tostring(root, encoding="utf-8", xml_declaration=True), len(rows)


@pytest.fixture
def server():
    s = GeoReport()
    yield s
    s.httpd.shutdown()
    s.httpd.server_close()


def _rows(catalog, source: str, table: str = "raw.service_requests") -> dict[str, dict]:
    key = "request_id" if table == "raw.service_requests" else "service_id"
    return {r[key]: r for r in source_rows(catalog, table, source)}


def _totals(records, table: str) -> tuple[int, int, int]:
    mine = [r for r in records if r.table_name == table]
    assert all(r.received == r.loaded + r.quarantined for r in mine)
    return sum(r.received for r in mine), sum(r.loaded for r in mine), sum(r.quarantined for r in mine)


def _state(civic_home: Path) -> dict:
    (path,) = (civic_home / "state" / "open311").glob("*/state.json")
    return json.loads(path.read_text())


def test_bloomington_json_paged_retried_and_incremental(lake, server, civic_home):
    settings, catalog = lake
    requests = json.loads((BLOOMINGTON / "bloomington_requests.json").read_text())
    services = json.loads((BLOOMINGTON / "bloomington_services.json").read_text())
    location = (
        f"{server.url('bloomington')}#since=2012-05-01&page_size={SERVER_CAP}&paging=true&updated_after=true&{FAST}"
    )
    # the catalogue call fails twice with 503, then answers too slowly; the first
    # requests call fails once: all of it must be retried within 4 attempts
    server.faults = {"/bloomington/v2/services.json": ["503", "503", "slow"], "/bloomington/v2/requests.json": ["503"]}

    records = ingest_feed(settings, catalog, "open311", location, name="bloomington")

    assert [c["status"] for c in server.calls("services.json")] == [503, 503, 200, 200]  # the 3rd came too late
    assert server.calls("requests.json")[0]["status"] == 503
    paged = [c for c in server.calls("requests.json") if c["status"] == 200 and c["query"].get("page", "1") != "1"]
    assert len(paged) >= len(requests) // SERVER_CAP - 1  # 21 requests, 5 an answer: pages 2..5
    assert all(c["rows"] <= SERVER_CAP for c in server.calls("requests.json") if c["rows"] is not None)
    windows = {(c["query"]["start_date"], c["query"]["end_date"]) for c in server.calls("requests.json")}
    assert len(windows) > 1  # the range is walked in windows

    ids = {r["service_request_id"] for r in requests}
    assert _totals(records, "raw.service_requests") == (len(ids), len(ids), 0) == (21, 21, 0)
    assert _totals(records, "raw.services")[0] == len(services)
    got = _rows(catalog, "bloomington")
    assert set(got) == ids
    for src in requests:
        row = got[src["service_request_id"]]
        assert row["requested_at"] == dt.datetime.fromisoformat(src["requested_datetime"]).replace(tzinfo=None)
        assert row["service_id"] == src["service_code"] and row["status"] == src["status"].lower()
        assert row["_source_file"] == f"{server.url('bloomington')}/requests.json"
    assert set(_rows(catalog, "bloomington", "raw.services")) == {s["service_code"] for s in services}

    cursor = max(_utc(r["updated_datetime"]) for r in requests)
    assert _utc(_state(civic_home)["cursor"]) == cursor
    before = {k: (v["status"], v["closed_at"]) for k, v in got.items()}

    # second run: asks only for what was updated after the cursor; nothing was
    server.log.clear()
    records = ingest_feed(settings, catalog, "open311", location, name="bloomington")
    asked = server.calls("requests.json")
    assert asked and all(
        c["query"]["updated_after"] == cursor.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") for c in asked
    )
    assert sum(c["rows"] for c in asked) == 0
    assert _state(civic_home)["last_run"]["changed"] == 0
    assert _totals(records, "raw.service_requests") == (21, 21, 0)
    assert {k: (v["status"], v["closed_at"]) for k, v in _rows(catalog, "bloomington").items()} == before

    # the city closes one request: the next run fetches that one, the other 20 stay as they were
    target = next(r for r in server.bloomington if r["status"] == "open")
    target.update(status="closed", updated_datetime="2012-05-24T09:00:00-04:00")
    server.log.clear()
    ingest_feed(settings, catalog, "open311", location, name="bloomington")
    assert sum(c["rows"] for c in server.calls("requests.json")) == 1
    after = _rows(catalog, "bloomington")
    assert len(after) == 21
    assert after[target["service_request_id"]]["closed_at"] == dt.datetime(2012, 5, 24, 9, 0)
    assert {k: v for k, v in before.items() if k != target["service_request_id"]} == {
        k: (v["status"], v["closed_at"]) for k, v in after.items() if k != target["service_request_id"]
    }


def test_san_francisco_xml_windows_split_and_start_date_cursor(lake, server, civic_home):
    settings, catalog = lake
    root = ET.parse(SAN_FRANCISCO / "san_francisco_requests.xml").getroot()
    requests = root.findall("request")
    n_services = len(ET.parse(SAN_FRANCISCO / "san_francisco_services.xml").getroot().findall("service"))
    location = f"{server.url('sanfrancisco')}#format=xml&since=2012-05-01&page_size={SERVER_CAP}&{FAST}"

    records = ingest_feed(settings, catalog, "open311", location, name="sf")

    calls = server.calls("requests.xml")
    assert all("page" not in c["query"] for c in calls)  # no paging: full answers split the window
    full = [c for c in calls if c["rows"] == SERVER_CAP]
    assert full and len(calls) > len(requests) // SERVER_CAP
    starts = {c["query"]["start_date"] for c in calls}
    assert len(starts) > len(requests) // SERVER_CAP
    ids = {r.findtext("service_request_id") for r in requests}
    assert _totals(records, "raw.service_requests") == (len(ids), len(ids), 0) == (56, 56, 0)
    assert _totals(records, "raw.services")[0] == n_services
    got = _rows(catalog, "sf")
    assert set(got) == ids
    first = requests[0]
    row = got[first.findtext("service_request_id")]
    assert row["requested_at"] == dt.datetime.strptime(first.findtext("requested_datetime"), "%Y-%m-%d %H:%M:%S.%f")
    assert first.findtext("lat") == "0.0" and row["lat"] is None  # the same oddities as the file reader
    assert first.findtext("zipcode") == "0" and row["zipcode"] is None
    assert row["location"] == expected_pseudonym("address", " ".join(first.findtext("address").split()))

    # second run: from the cursor (less a day) on requested_datetime; nothing changed
    cursor = max(_utc(r.findtext("updated_datetime") or r.findtext("requested_datetime")) for r in requests)
    assert _utc(_state(civic_home)["cursor"]) == cursor
    server.log.clear()
    records = ingest_feed(settings, catalog, "open311", location, name="sf")
    first_call = server.calls("requests.xml")[0]
    assert first_call["query"]["start_date"] == (cursor - dt.timedelta(days=1)).astimezone(UTC).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    assert _state(civic_home)["last_run"]["changed"] == 0
    assert _totals(records, "raw.service_requests") == (56, 56, 0)
    assert set(_rows(catalog, "sf")) == ids


def test_an_endpoint_that_stays_down_fails_naming_the_url_and_loads_nothing(lake, server, civic_home, capsys):
    settings, catalog = lake
    root = f"http://127.0.0.1:{server.port}/down/v2"
    with pytest.raises(EndpointError, match=re.escape(f"{root}/services.json") + ".*503.*after 3 attempts"):
        ingest_feed(settings, catalog, "open311", f"{root}#attempts=3&backoff=0.01", name="down")
    assert len(server.calls("services.json")) == 3
    assert not (civic_home / "state" / "open311").exists() or not any(
        (civic_home / "state" / "open311").rglob("*.json")
    )
    tables = {t for ns in catalog.list_namespaces() for t in catalog.list_tables(ns)}
    assert ("raw", "service_requests") not in tables and ("raw", "services") not in tables
    if ("raw", "loads") in tables:
        assert catalog.load_table("raw.loads").scan().to_arrow().num_rows == 0

    # the command line says the same, and fails
    assert main(["ingest", "--source", "open311", f"{root}#attempts=2&backoff=0.01"]) == 1
    assert f"{root}/services.json" in capsys.readouterr().err


def test_an_endpoint_in_feeds_yml_feeds_the_refreshed_year(lake, server, civic_home, monkeypatch):
    """What a refresh's raw assets call, with the endpoint and its options from feeds.yml."""
    from orchestration.load.flow import load_feeds

    monkeypatch.delenv("CIVIC_FEEDS", raising=False)
    monkeypatch.delenv("CIVIC_SOURCES", raising=False)
    (civic_home / "feeds.yml").write_text(f"""
sources:
  - name: sf
    kind: open311
    location: {server.url("sanfrancisco")}
    options: {{format: xml, since: 2012-05-01, page_size: {SERVER_CAP}, timeout: {TIMEOUT}, backoff: 0.01}}
""")
    settings, catalog = load_settings(), lake[1]
    root = ET.parse(SAN_FRANCISCO / "san_francisco_requests.xml").getroot()
    years = {dt.datetime.fromisoformat(r.findtext("requested_datetime")).year for r in root.findall("request")}
    assert years == {2012}
    n_services = len(ET.parse(SAN_FRANCISCO / "san_francisco_services.xml").getroot().findall("service"))

    services = load_feeds(settings, catalog, "services", [2012, 2013])
    requests = load_feeds(settings, catalog, "service_requests", [2012, 2013])

    assert [(r.fiscal_year, r.source, r.loaded) for r in services] == [
        (2012, "sf", n_services),
        (2013, "sf", 0),  # the feed's requests are all of FY2012: its catalogue stands for no other year
    ]
    assert [(r.fiscal_year, r.received, r.loaded, r.quarantined) for r in requests] == [
        (2012, 56, 56, 0),
        (2013, 0, 0, 0),
    ]
    assert {r["fiscal_year"] for r in _rows(catalog, "sf").values()} == {2012}
    assert all(c["query"]["start_date"] for c in server.calls("requests.xml"))
    assert (settings.state_dir / "open311").is_dir()
