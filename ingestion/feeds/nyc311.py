"""NYC 311 service requests: the Open Data export CSV (Title Case headers) and the Socrata
API JSON (snake_case keys; a key absent from a record is a null).

NYC has no service codes: the complaint type is the service. The channel comes from
`open_data_channel_type` (PHONE, ONLINE, MOBILE, UNKNOWN, OTHER).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from contracts.entities import FEED_REJECTED
from ingestion.errors import SourceFileError
from ingestion.feeds.base import (
    REASON,
    FeedKind,
    Reads,
    kept_name,
    read_json_records,
    suffixed,
    text_batches,
    text_field,
)
from ingestion.readers import iter_batches

CHANNELS = {"PHONE": "phone", "ONLINE": "online", "MOBILE": "mobile", "UNKNOWN": "other", "OTHER": "other"}
CANONICAL = {
    "request_id": "unique_key",
    "service_id": "complaint_type",
    "channel": "_channel",
    "requested_at": "created_date",
    "closed_at": "closed_date",
    "expected_at": "due_date",
    "status": "_status",
    "agency": "agency",
    "location": "incident_address",
    "area": "incident_zip",
    FEED_REJECTED: REASON,
}
# the export's columns a CSV cannot be read without (as `snake` names them)
CSV_NEEDED = {
    "unique_key": "Unique Key",
    "complaint_type": "Complaint Type",
    "created_date": "Created Date",
    "closed_date": "Closed Date",
    "status": "Status",
    "agency": "Agency",
}


def snake(name: str) -> str:
    """'Open Data Channel Type' -> 'open_data_channel_type'; 'X Coordinate (State Plane)' -> 'x_coordinate_state_plane'."""
    return re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")


def _status(value: str | None) -> str | None:
    if value is None or not isinstance(value, str):
        return None
    return "closed" if value.strip().lower() == "closed" else "open"


def normalise(record: dict) -> dict:
    r = {snake(k): v for k, v in record.items()}
    r["_channel"] = CHANNELS.get((text_field(r, "open_data_channel_type") or "UNKNOWN").upper(), "other")
    r["_status"] = _status(text_field(r, "status"))
    return r


class Nyc311Kind(FeedKind):
    kind = "nyc311"
    entities = ("service_requests",)
    date_order = "mdy"  # the Open Data export writes 05/27/2024 02:08:51 AM
    reads = {"service_requests": Reads(suffixed((".csv", ".json")), lambda _, path: file_batches(path))}


def file_batches(path: Path) -> Iterator[pa.RecordBatch]:
    if path.suffix.lower() == ".json":
        yield from text_batches([normalise(r) for r in read_json_records(path)], CANONICAL)
    else:
        for batch in iter_batches(path):
            missing = [
                title for name, title in CSV_NEEDED.items() if name not in {snake(c) for c in batch.schema.names}
            ]
            if missing:
                raise SourceFileError(str(path), f"not a NYC 311 export: no {', '.join(missing)} column")
            yield _csv_batch(batch)


def _csv_batch(batch: pa.RecordBatch) -> pa.RecordBatch:
    table = pa.Table.from_batches([batch])
    # (a row the reader rejected keeps its reason column as it is)
    table = table.rename_columns([c if c == FEED_REJECTED else snake(c) for c in table.column_names])
    channel = table["open_data_channel_type"] if "open_data_channel_type" in table.column_names else None
    status = table["status"]
    closed = pc.equal(pc.utf8_lower(pc.utf8_trim_whitespace(status)), "closed")
    cols = {
        "request_id": table["unique_key"],
        "service_id": table["complaint_type"],
        "channel": pa.array(
            [CHANNELS.get((v or "UNKNOWN").upper(), "other") for v in channel.to_pylist()]
            if channel is not None
            else ["other"] * table.num_rows,
            pa.string(),
        ),
        "requested_at": table["created_date"],
        "closed_at": table["closed_date"],
        "expected_at": table["due_date"] if "due_date" in table.column_names else pa.nulls(table.num_rows, pa.string()),
        "status": pc.if_else(pc.is_null(status), pa.scalar(None, pa.string()), pc.if_else(closed, "closed", "open")),
        "agency": table["agency"],
        "location": table["incident_address"]
        if "incident_address" in table.column_names
        else pa.nulls(table.num_rows, pa.string()),
        # a ZIP code is an area (kept in clear): the hot spots' coarse location
        "area": pc.cast(table["incident_zip"], pa.string())
        if "incident_zip" in table.column_names
        else pa.nulls(table.num_rows, pa.string()),
    }
    # incident_zip stays an extra column too (as before `area` existed)
    taken = {"unique_key", "complaint_type", "created_date", "closed_date", "due_date", "agency", "incident_address"}
    for name in table.column_names:
        if name not in taken:
            cols[name if name == FEED_REJECTED else kept_name(name, CANONICAL)] = table[name]
    return pa.Table.from_pydict(cols).combine_chunks().to_batches()[0]
