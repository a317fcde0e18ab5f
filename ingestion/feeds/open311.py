"""Open311 GeoReport v2: `services` and `requests`, as JSON or XML files.

Oddities handled (seen in Bloomington and San Francisco responses): `lat`/`long` of 0
and empty or "0" zipcodes are "not given"; timestamps with offsets
(`2012-05-23T15:55:28-04:00`, kept as local wall time) or without a T and with
fractional seconds (`2012-05-22 23:57:23.97`); `updated_datetime` is the close time when
the status is closed; `expected_datetime` is the SLA due time. GeoReport does not say
through which channel a request came: channel `other`. A live endpoint (http or https)
is read by open311_http into a mirror, then through the same normalisation.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa

from contracts.entities import FEED_REJECTED
from ingestion.errors import SourceFileError
from ingestion.feeds.base import REASON, FeedKind, Reads, read_json_records, suffixed, text_batches, text_field

REQUEST_COLUMNS = {
    "request_id": "service_request_id",
    "service_id": "service_code",
    "channel": "_channel",
    "requested_at": "requested_datetime",
    "closed_at": "_closed_at",
    "expected_at": "expected_datetime",
    "status": "_status",
    "agency": "agency_responsible",
    "location": "_location",
    "area": "_area",
    FEED_REJECTED: REASON,
}
SERVICE_COLUMNS = {
    "service_id": "service_code",
    "name": "service_name",
    "priority_area": "_priority_area",
    "agency": "_agency",
}
# the root element of a GeoReport v2 XML document, by the element of its records
GEOREPORT_ROOTS = {"request": "service_requests", "service": "services"}
_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"


def read_records(path: Path, element: str) -> list[dict]:
    if path.suffix.lower() != ".xml":
        return read_json_records(path)
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as err:
        raise SourceFileError(str(path), f"not well-formed XML ({err})") from err
    expected = GEOREPORT_ROOTS[element]
    if root.tag != expected:  # an HTML error page saved as requests.xml is not a feed
        raise SourceFileError(str(path), f"not a GeoReport <{expected}> document (its root is <{root.tag}>)")
    return xml_records(root, element)


def xml_records(root: ET.Element, element: str) -> list[dict]:
    """The `element` nodes of a GeoReport XML document as records (xsi:nil and empty are nulls)."""
    return [
        {child.tag: (None if child.get(_NIL) == "true" else (child.text or "").strip() or None) for child in node}
        for node in root.iter(element)
    ]


def _blank(value) -> bool:
    return value is None or str(value).strip() in ("", "0", "0.0")


def normalise_request(r: dict) -> dict:
    r = dict(r)
    status = (text_field(r, "status") or "").strip().lower() or None
    r["_status"] = status
    r["_closed_at"] = r.get("updated_datetime") if status == "closed" else None
    r["_channel"] = "other"
    address = (text_field(r, "address") or "").strip()
    r["_location"] = " ".join(address.split()) or None
    for key in ("lat", "long", "zipcode"):
        if key in r and _blank(r[key]):
            r[key] = None
    r["_area"] = r.get("zipcode")  # a ZIP code is an area: the hot spots' coarse location
    return r


class Open311Kind(FeedKind):
    """Files (a file or a directory) or a live endpoint (`http(s)://.../v2`, see open311_http)."""

    kind = "open311"
    entities = ("service_requests", "services")

    def __init__(self) -> None:
        self._synced: dict[str, tuple[str, list[dict], str, list[dict]]] = {}

    reads = {
        "service_requests": Reads(
            suffixed((".json", ".xml"), "request"), lambda _, path: request_batches(read_records(path, "request"))
        ),
        "services": Reads(
            suffixed((".json", ".xml"), "service"), lambda _, path: service_batches(read_records(path, "service"))
        ),
    }

    def extract(self, location: str, entity: str) -> Iterator[tuple[str, pa.RecordBatch]]:
        if location.lower().startswith(("http://", "https://")):
            yield from self._extract_endpoint(location, entity)
        else:
            yield from super().extract(location, entity)

    def _extract_endpoint(self, location: str, entity: str) -> Iterator[tuple[str, pa.RecordBatch]]:
        # One fetch per ingest, for both entities, before anything is yielded: an endpoint
        # that fails fails the first entity, so nothing of it is committed.
        if location not in self._synced:
            from ingestion.feeds.open311_http import Open311Endpoint  # it imports this module

            if self.state_dir is None:
                raise SourceFileError(location, "an Open311 endpoint needs a state directory (Settings.state_dir)")
            endpoint = Open311Endpoint(location, self.state_dir)
            requests, services = endpoint.sync()
            self._synced[location] = (endpoint.url("requests"), requests, endpoint.url("services"), services)
        requests_url, requests, services_url, services = self._synced[location]
        if entity == "service_requests":
            yield from ((requests_url, batch) for batch in request_batches(requests))
        elif entity == "services":
            yield from ((services_url, batch) for batch in service_batches(services))


def request_batches(records: list[dict]) -> Iterator[pa.RecordBatch]:
    return text_batches([normalise_request(r) for r in records], REQUEST_COLUMNS)


def service_batches(records: list[dict]) -> Iterator[pa.RecordBatch]:
    records = [{**r, "_priority_area": "other", "_agency": r.get("agency")} for r in records]
    return text_batches(records, SERVICE_COLUMNS)
