"""Open311 GeoReport v2 from a live endpoint: `services` and `requests` over HTTP.

A run fetches into a local mirror of the endpoint (under `<state dir>/open311/`, the caller's Settings.state_dir)
and the file reader's normalisation then reads the mirror like any GeoReport file. Why a
mirror: a raw partition is replaced whole per (table, fiscal year, source), so a run
that asks only for what changed since the last one must still hand over every request
of the endpoint; the mirror holds them all, by `service_request_id`, newest copy wins.

- Windows: GeoReport filters `start_date`/`end_date` (both inclusive) on
  `requested_datetime` and answers at most N requests per call, so the range is walked
  in slices of `window_days`; a slice whose answer comes back full is split in halves
  (or, with `paging`, read page after page) until no answer is full.
- Incremental: the highest `updated_datetime` seen (or `requested_datetime` for a
  request never updated) is the endpoint's cursor, kept in the mirror's `state.json`.
  The next run asks from the cursor less one day (`start_date`: the core spec; the day
  absorbs servers that give local times without an offset), or, with `updated_after`
  (a widely implemented extension), walks the whole range again asking only for the
  requests updated after the cursor: that also sees status changes of older requests.
- Retries: HTTP 429/5xx, connection errors and timeouts are retried with exponential
  backoff (dlt's requests client), `attempts` in all; then EndpointError names the URL.
  Nothing is written to the mirror (so nothing is loaded) unless every call succeeded.

Client options ride in the location's fragment (never sent to the server), e.g.
`https://city.example/open311/v2#format=xml&since=2023-01-01&page_size=500`; a query
string (`?jurisdiction_id=...`) is passed on to every call.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
import os
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from dlt.sources.helpers.requests import Client, HTTPError, RequestException

from ingestion.errors import SourceFileError
from ingestion.feeds.open311 import xml_records

log = logging.getLogger("civic.progress")

SCHEMES = ("http://", "https://")
OVERLAP = dt.timedelta(days=1)
SMALLEST_WINDOW = dt.timedelta(seconds=1)
UTC = dt.UTC


class EndpointError(SourceFileError):
    """An endpoint that did not answer (after retries) or answered something unreadable."""


def is_endpoint(location: str) -> bool:
    return location.lower().startswith(SCHEMES)


@dataclass(frozen=True)
class HttpOptions:
    format: str = "json"  # json or xml: the resource suffix asked for
    since: dt.date | None = None  # first day of the first run (default: 90 days ago)
    window_days: float = 90.0  # the spec's largest start_date..end_date span
    page_size: int = 1000  # the most requests the server returns per call
    paging: bool = False  # the server honours `page` (and `page_size`)
    updated_after: bool = False  # the server honours `updated_after`
    timeout: float = 30.0  # seconds per call
    attempts: int = 5  # calls per URL before giving up
    backoff: float = 1.0  # seconds before the first retry, doubled each time


def parse_options(raw: dict[str, str], location: str) -> HttpOptions:
    """Options from text (a URL fragment or feeds.yml), each checked, unknown ones refused."""
    fields = {f.name: f for f in dataclasses.fields(HttpOptions)}
    values: dict = {}
    for key, text in raw.items():
        if key not in fields:
            raise SourceFileError(location, f"unknown option {key!r}; known: {', '.join(fields)}")
        text = str(text).strip()
        try:
            if key == "format":
                if text.lower() not in ("json", "xml"):
                    raise ValueError("json or xml")
                values[key] = text.lower()
            elif key == "since":
                values[key] = dt.date.fromisoformat(text)
            elif key in ("paging", "updated_after"):
                if text.lower() not in ("true", "false", "yes", "no", "1", "0"):
                    raise ValueError("true or false")
                values[key] = text.lower() in ("true", "yes", "1")
            elif key in ("page_size", "attempts"):
                values[key] = int(text)
                if values[key] < 1:
                    raise ValueError("at least 1")
            else:
                values[key] = float(text)
                if values[key] <= 0 and key != "backoff":
                    raise ValueError("more than 0")
        except ValueError as err:
            raise SourceFileError(location, f"option {key}={text!r} is not valid ({err})") from None
    return HttpOptions(**values)


def split_location(location: str) -> tuple[str, dict[str, str], HttpOptions]:
    """(endpoint root, parameters for every call, client options) of an http(s) location."""
    parts = urlsplit(location)
    root = urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))
    return root, dict(parse_qsl(parts.query)), parse_options(dict(parse_qsl(parts.fragment)), location)


def _w3(moment: dt.datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def changed_at(record: dict) -> dt.datetime | None:
    """When a request last changed, as UTC (a time without offset is read as UTC)."""
    for key in ("updated_datetime", "requested_datetime"):
        text = record.get(key)
        if text:
            try:
                moment = dt.datetime.fromisoformat(str(text).strip().replace("Z", "+00:00"))
            except ValueError:
                continue  # the contract quarantines the row; it just does not move the cursor
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return None


def _key(record: dict) -> str:
    rid = record.get("service_request_id")
    return str(rid) if rid not in (None, "") else json.dumps(record, sort_keys=True, default=str)


@dataclass
class SyncReport:
    endpoint: str
    calls: list[str] = field(default_factory=list)  # every URL asked, with its parameters
    fetched: int = 0  # request records received (window overlaps counted twice)
    changed: int = 0  # new requests or requests that differ from the mirror's copy
    requests: int = 0  # requests the mirror holds after the run
    services: int = 0
    cursor: str | None = None


class Open311Endpoint:
    """One GeoReport v2 endpoint and its mirror under the state directory."""

    def __init__(self, location: str, state_dir: Path):
        self.location = location
        self.root, self.params, self.options = split_location(location)
        digest = hashlib.sha1(f"{self.root}?{sorted(self.params.items())}".encode()).hexdigest()[:10]
        slug = re.sub(r"[^A-Za-z0-9]+", "_", urlsplit(self.root).netloc + urlsplit(self.root).path).strip("_")
        self.mirror = state_dir / "open311" / f"{slug}-{digest}"
        self.client = Client(
            request_timeout=self.options.timeout,
            request_max_attempts=self.options.attempts,
            request_backoff_factor=self.options.backoff,
            request_max_retry_delay=60,
            raise_for_status=True,
        )
        self.report = SyncReport(self.root)

    def url(self, resource: str) -> str:
        return f"{self.root}/{resource}.{self.options.format}"

    # -- reading ---------------------------------------------------------------------
    def get(self, resource: str, element: str, params: dict[str, str]) -> list[dict]:
        url = self.url(resource)
        query = {**self.params, **params}
        self.report.calls.append(f"{url}?{'&'.join(f'{k}={v}' for k, v in query.items())}")
        try:
            response = self.client.get(url, params=query)
        except HTTPError as err:
            status = err.response.status_code if err.response is not None else "?"
            tried = (
                f" after {self.options.attempts} attempts"
                if status == "?" or int(status) >= 500 or status == 429
                else ""
            )
            raise EndpointError(url, f"HTTP {status}{tried} ({err})") from err
        except RequestException as err:
            raise EndpointError(
                url, f"no answer after {self.options.attempts} attempts ({type(err).__name__}: {err})"
            ) from err
        return self._records(response.content, url, element)

    def _records(self, content: bytes, url: str, element: str) -> list[dict]:
        if self.options.format == "xml":
            try:
                return xml_records(ET.fromstring(content), element)
            except ET.ParseError as err:
                raise EndpointError(url, f"not well-formed XML ({err})") from err
        try:
            data = json.loads(content.decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise EndpointError(url, f"not valid JSON ({err})") from err
        if isinstance(data, dict) and isinstance(data.get(f"{element}s"), list):
            data = data[f"{element}s"]
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise EndpointError(url, "expected a JSON array of objects")
        return data

    def window(self, start: dt.datetime, end: dt.datetime, extra: dict[str, str]) -> list[dict]:
        """The requests of one slice; a full answer is paged or split until none is full."""
        params = {"start_date": _w3(start), "end_date": _w3(end), **extra}
        size = self.options.page_size
        if self.options.paging:
            params["page_size"] = str(size)
        records = self.get("requests", "request", params)
        if len(records) < size:
            return records
        if self.options.paging:
            seen = {_key(r) for r in records}
            for page in range(2, 100_000):
                more = self.get("requests", "request", {**params, "page": str(page)})
                if not {_key(r) for r in more} - seen:
                    break  # the server ignores `page`: split the window instead
                records += more
                seen |= {_key(r) for r in more}
                if len(more) < size:
                    return records
        if end - start <= SMALLEST_WINDOW:
            raise EndpointError(
                self.url("requests"),
                f"{size} or more requests between {_w3(start)} and {_w3(end)}: the answer is cut and the "
                "window cannot be split further (set `paging` if the server honours `page`, or a larger `page_size`)",
            )
        middle = start + (end - start) / 2
        return self.window(start, middle, extra) + self.window(middle, end, extra)

    def fetch_requests(self, cursor: dt.datetime | None, now: dt.datetime) -> list[dict]:
        since = self.options.since or (now.date() - dt.timedelta(days=90))
        start = dt.datetime.combine(since, dt.time(), UTC)
        extra: dict[str, str] = {}
        if cursor is not None:
            if self.options.updated_after:
                extra["updated_after"] = _w3(cursor)
            else:
                start = max(start, cursor - OVERLAP)
        end = now + OVERLAP  # a server clock ahead of ours, or local times east of UTC
        step = dt.timedelta(days=self.options.window_days)
        records: list[dict] = []
        while start < end:
            stop = min(start + step, end)
            records += self.window(start, stop, extra)
            start = stop
        return records

    # -- the mirror --------------------------------------------------------------------
    def _read(self, name: str, default):
        path = self.mirror / name
        if not path.exists():
            return default
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as err:
            raise SourceFileError(
                str(path), f"the mirror of {self.root} is damaged ({err}); remove the folder to fetch again"
            ) from err

    def _write(self, name: str, data) -> None:
        tmp = self.mirror / f".{name}.tmp"
        tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, self.mirror / name)

    def state(self) -> dict:
        return self._read("state.json", {})

    def sync(self, now: dt.datetime | None = None) -> tuple[list[dict], list[dict]]:
        """Fetch what changed, merge it into the mirror; (requests, services) of the mirror."""
        now = now or dt.datetime.now(UTC)
        state = self.state()
        cursor = dt.datetime.fromisoformat(state["cursor"]) if state.get("cursor") else None
        # everything is fetched before anything is written: a failure leaves the mirror as it was
        services = self.get("services", "service", {})
        fetched = self.fetch_requests(cursor, now)
        mirror = {_key(r): r for r in self._read("requests.json", [])}
        changed = 0
        for record in fetched:
            key = _key(record)
            if mirror.get(key) != record:
                changed += 1
                mirror[key] = record
        moments = [m for m in (changed_at(r) for r in fetched) if m is not None]
        if moments and (cursor is None or max(moments) > cursor):
            cursor = max(moments)
        self.mirror.mkdir(parents=True, exist_ok=True)
        requests = list(mirror.values())
        self._write("requests.json", requests)
        self._write("services.json", services)
        r = self.report
        r.fetched, r.changed, r.requests, r.services = len(fetched), changed, len(requests), len(services)
        r.cursor = cursor.isoformat() if cursor else None
        self._write(
            "state.json",
            {
                "endpoint": self.root,
                "format": self.options.format,
                "cursor": r.cursor,
                "synced_at": now.isoformat(),
                "requests": r.requests,
                "services": r.services,
                "last_run": {"calls": len(r.calls), "fetched": r.fetched, "changed": r.changed},
            },
        )
        log.info(
            f"  open311 {self.root}: {len(r.calls)} calls, {r.fetched} requests fetched "
            f"({r.changed} new or changed), {r.requests} in the mirror, cursor {r.cursor}"
        )
        return requests, services
