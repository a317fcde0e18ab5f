"""California DMV waits: the field-office feed (XML snapshot, `ca_dmv_xml`) and the
scraped time series with its office list (CSV, `ca_dmv_csv`) -> `wait_observations`.

XML: one row per office x queue category and kind of figure: `estimated`
(estimated-wait-time) and `actual` (real-wait-time); the queue's counts ride on both.
The times are hours:minutes, not minutes:seconds (see docs/sources_waits_web.md). A
response may carry more after its first document (the saved one does: a second copy cut
at its start, then the DMV's minute list); that rest is quarantined as one fragment. The
feed has no timestamp: the snapshot time comes from the file name.

CSV: `appt` and `non_appt` (minutes) give an `appointment` and a `walk_in` observation;
the scraper stored UTC, shown here as Pacific wall-clock time like every other feed.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
import xml.parsers.expat as expat
from pathlib import Path

import polars as pl
import pyarrow as pa

from ingestion.errors import SourceFileError
from ingestion.feeds.base import (
    REASON,
    FeedKind,
    Reads,
    files_in,
    mapped,
    read_csv_records,
    suffixed,
)
from ingestion.feeds.wait_feeds import WAIT_COLUMNS, hh_mm_minutes, minutes_or_text, snapshot_time
from ingestion.readers import iter_batches

PUBLISHER = "ca_dmv"
OFFICE_ZONE = "America/Los_Angeles"
# XML element -> kept column name (times kept as the feed wrote them, beside the minutes)
XML_FIELDS = {
    "customers-waiting": None,
    "open-counters": None,
    "estimated-wait-time": "estimated_wait_time",
    "real-wait-time": "real_wait_time",
    "customers-served": None,
    "avg-in-building-time": "avg_in_building_time",
    "avg-transaction-time": "avg_transaction_time",
}
WAIT_ELEMENTS = {"estimated": "estimated-wait-time", "actual": "real-wait-time"}


# --- XML snapshot ---------------------------------------------------------------------


def split_documents(data: bytes, path: str) -> tuple[bytes, int | None]:
    """The first XML document and the byte where whatever follows it starts (None if
    only white space does). A file whose first document is itself broken cannot be read."""
    parser = expat.ParserCreate()
    depth = 0
    root_end: int | None = None

    def start(_name, _attrs):
        nonlocal depth
        depth += 1

    def end(_name):
        nonlocal depth, root_end
        depth -= 1
        if depth == 0 and root_end is None:  # the byte after the root's end tag
            root_end = data.index(b">", parser.CurrentByteIndex) + 1

    parser.StartElementHandler, parser.EndElementHandler = start, end
    try:
        parser.Parse(data, True)
    except expat.ExpatError as err:
        if root_end is None:
            raise SourceFileError(path, f"not well-formed XML ({err})") from err
    if root_end is None:
        raise SourceFileError(path, "no XML document in the file")
    rest = data[root_end:]
    if not rest.strip():
        return data, None
    return data[:root_end], root_end + len(rest) - len(rest.lstrip())


def fragment_reason(data: bytes, start: int) -> str:
    rest = data[start:]
    try:
        ET.fromstring(rest)
        problem = "a second complete document (one snapshot per file is read)"
    except ET.ParseError as err:
        problem = str(err)
    return (
        f"second XML document truncated at byte {start}: {problem}; the rest of the file "
        f"(bytes {start}-{len(data)}) is kept as this one fragment and not loaded"
    )


def _int_or_text(text: str | None) -> str | None:
    return None if text is None else text.strip()


def category_records(branch: ET.Element, category: ET.Element, observed_at: str) -> list[dict]:
    fields = {tag: category.findtext(tag) for tag in XML_FIELDS}
    base = {
        "branch_id": branch.get("id"),
        "branch_name": branch.get("name"),
        "category_id": category.get("id"),
        "category_name": category.get("name"),
        **{XML_FIELDS[tag]: value for tag, value in fields.items() if XML_FIELDS[tag]},
        "avg_in_building_minutes": minutes_or_text(hh_mm_minutes, fields["avg-in-building-time"]),
        "_site_id": branch.get("id"),
        "_site_name": branch.get("name"),
        "_service_id": category.get("name"),
        "_observed_at": observed_at,
        "_customers_waiting": _int_or_text(fields["customers-waiting"]),
        "_customers_served": _int_or_text(fields["customers-served"]),
        "_open_counters": _int_or_text(fields["open-counters"]),
        "_mean_service_minutes": minutes_or_text(hh_mm_minutes, fields["avg-transaction-time"]),
    }
    return [
        {
            **base,
            "_observation_id": f"{PUBLISHER}:{branch.get('id')}:{category.get('id')}:{observed_at}:{kind}",
            "_wait_kind": kind,
            "_wait_minutes": minutes_or_text(hh_mm_minutes, fields[element]),
        }
        for kind, element in WAIT_ELEMENTS.items()
    ]


def xml_records(path: Path, stated: dt.datetime | None = None) -> list[dict]:
    observed_at = snapshot_time(path, stated).isoformat()
    try:
        data = path.read_bytes()
    except OSError as err:
        raise SourceFileError(str(path), str(err)) from err
    first, rest_at = split_documents(data, str(path))
    try:
        root = ET.fromstring(first)
    except ET.ParseError as err:  # an entity it cannot resolve (expat alone skips them)
        raise SourceFileError(str(path), f"not readable XML ({err})") from err
    if root.tag != "branches":
        raise SourceFileError(str(path), f"expected a <branches> feed, found <{root.tag}>")
    records = [
        record
        for branch in root.iter("branch")
        for category in branch.iter("category")
        for record in category_records(branch, category, observed_at)
    ]
    if rest_at is not None:
        head = data[rest_at : rest_at + 200].decode("utf-8", "replace")
        records.append(
            {
                "_observation_id": f"{PUBLISHER}:{path.name}:bytes-{rest_at}-{len(data)}",
                "_observed_at": observed_at,
                "fragment_bytes": str(len(data) - rest_at),
                "fragment_head": head,
                REASON: fragment_reason(data, rest_at),
            }
        )
    return records


# --- CSV time series --------------------------------------------------------------------

WAIT_CSV_COLUMNS = ("id", "appt", "branch_id", "non_appt", "timestamp")
CSV_KINDS = {"appointment": "appt", "walk_in": "non_appt"}


def read_offices(path: Path) -> pl.DataFrame:
    """The office list (number -> name, region, place), as text."""
    _, rows = read_csv_records(path)
    if not rows or "number" not in rows[0]:
        raise SourceFileError(str(path), "expected an office list with a `number` column")
    keep = ("number", "name", "region", "address", "latitude", "longitude")
    return pl.DataFrame({k: [r.get(k) for r in rows] for k in keep}, schema={k: pl.String for k in keep}).unique(
        "number", keep="first"
    )


def local_time_text(utc_text: pl.Expr) -> pl.Expr:
    """UTC text -> Pacific wall-clock time as ISO text; unreadable text passes unchanged."""
    parsed = utc_text.str.strip_chars().str.to_datetime("%Y-%m-%d %H:%M:%S%.f", time_zone="UTC", strict=False)
    local = parsed.dt.convert_time_zone(OFFICE_ZONE).dt.replace_time_zone(None)
    return pl.when(parsed.is_null()).then(utc_text).otherwise(local.dt.to_string("%Y-%m-%dT%H:%M:%S%.6f"))


def csv_batch(batch: pa.RecordBatch, offices: pl.DataFrame | None, path: Path) -> pa.RecordBatch:
    frame = pl.from_arrow(batch)
    assert isinstance(frame, pl.DataFrame)
    missing = [c for c in WAIT_CSV_COLUMNS if c not in frame.columns]
    if missing:
        raise SourceFileError(
            str(path), f"expected columns {', '.join(WAIT_CSV_COLUMNS)}; missing {', '.join(missing)}"
        )
    if offices is not None:
        frame = frame.join(
            offices.rename({"number": "branch_id", "name": "_site_name", "region": "_region"}),
            on="branch_id",
            how="left",
        )
    else:
        frame = frame.with_columns(
            pl.lit(None, pl.String).alias("_site_name"), pl.lit(None, pl.String).alias("_region")
        )
    frame = frame.with_columns(local_time_text(pl.col("timestamp")).alias("_observed_at"))
    parts = [
        frame.select(
            (pl.lit(f"{PUBLISHER}:wait_times:") + pl.col("id") + pl.lit(f":{kind}")).alias("observation_id"),
            pl.col("branch_id").alias("site_id"),
            pl.col("_site_name").alias("site_name"),
            pl.col("_region").alias("region"),
            pl.lit(None, pl.String).alias("service_id"),
            pl.col("_observed_at").alias("observed_at"),
            pl.lit(kind).alias("wait_kind"),
            pl.col(column).alias("wait_minutes"),
            pl.exclude("_site_name", "_region", "_observed_at"),
        )
        for kind, column in CSV_KINDS.items()
    ]
    return pl.concat(parts).to_arrow().combine_chunks().to_batches()[0]


def _offices_of(location: str, waits: list[Path]) -> pl.DataFrame | None:
    """The office list beside the wait files (read once for all of them), if any."""
    path = Path(location)
    folder = path if path.is_dir() else path.parent
    offices = [p for p in files_in(str(folder), (".csv",), "branch") if p not in waits]
    return read_offices(offices[0]) if offices else None


class CaDmvXmlKind(FeedKind):
    kind = "ca_dmv_xml"
    entities = ("wait_observations",)
    reads = {
        "wait_observations": Reads(
            suffixed((".xml", ".txt")), mapped(lambda kind, path: xml_records(path, kind.observed_at), WAIT_COLUMNS)
        )
    }


class CaDmvCsvKind(FeedKind):
    kind = "ca_dmv_csv"
    entities = ("wait_observations",)
    reads = {
        "wait_observations": Reads(
            suffixed((".csv",), "wait"),
            lambda offices, path: (csv_batch(batch, offices, path) for batch in iter_batches(path)),
            prepare=lambda _, location, waits: _offices_of(location, waits),
        )
    }
