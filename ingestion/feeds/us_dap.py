"""US Digital Analytics Program exports (analytics.usa.gov, GA4), `us_dap` -> `web_traffic_daily`.

DAP publishes per agency (and `live` for all government sites together) CSV and JSON
reports named `<property>/<report>.csv|json`; a flattened copy names them
`<property>_<report>.csv`. A report with a `date` column gives one row per day
(period 1). Rolling-window reports are dated by the window's last day: JSON states it
(`taken_at` and the query's `dateRanges`, e.g. 30daysAgo..yesterday); the CSV exports
do not, so they take a date from their file name or, failing that, the last day of the
same property's daily reports delivered with them (DAP writes them in one run).
Rates are shares (0.31, not 31); a JSON whose `data` is empty but whose `totals` break
the metric down (`by_<dimension>`) gives one row per entry of that breakdown.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from zoneinfo import ZoneInfo

from ingestion.errors import SourceFileError
from ingestion.feeds.base import (
    FeedKind,
    Reads,
    computed_columns,
    mapped,
    read_csv_records,
    suffixed,
)

WEB_COLUMNS = computed_columns("web_traffic_daily")
# source metric -> canonical column (DAP writes `visits` for GA4 sessions)
MEASURES = {
    "visits": "visits",
    "sessions": "visits",
    "users": "users",
    "active_visitors": "users",
    "activeUsers": "users",
    "totalUsers": "users",
    "avg_session_duration": "avg_session_seconds",
    "averageSessionDuration": "avg_session_seconds",
    "bounce_rate": "bounce_rate",
    "bounceRate": "bounce_rate",
    "engagement_rate": "engagement_rate",
    "engagementRate": "engagement_rate",
    "total_events": "events",
    "eventCount": "events",
}
OTHER_METRICS = {"pageviews", "pageviews_per_session", "userEngagementDuration", "screenPageViews"}
# source dimension -> canonical dimension, the first present naming the row
DIMENSIONS = (
    ("landing_page", "landing_page"),
    ("source", "source"),
    ("customEvent:event_label", "answer"),
    ("device", "device"),
    ("session_default_channel_group", "channel_group"),
    ("sessionDefaultChannelGroup", "channel_group"),
    ("domain", "domain"),
)
_CHANNEL_GROUP_KEYS = ("session_default_channel_group", "sessionDefaultChannelGroup")
# undated CSV reports whose name does not say the window: DAP's domain report is 30 days
KNOWN_WINDOWS = {"sites": 30}
# GA4 resolves "yesterday" in the property's time zone: DAP's is taken to be US Eastern
PROPERTY_ZONE = ZoneInfo("America/New_York")
_DAYS_IN_NAME = re.compile(r"(\d+)-days?\b")
_DATE_IN_NAME = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")
_RELATIVE = re.compile(r"(\d+)daysAgo")


def names(path: Path) -> tuple[str, str]:
    """(property, report): `veterans-affairs_users.csv` or `veterans-affairs/users.csv`;
    a date the file name carries (`..._sites_2024-01-04.csv`) is not part of the report."""
    stem = re.sub(r"[_-]\d{4}-\d{2}-\d{2}$", "", path.stem)
    if "_" in stem:
        prop, report = stem.split("_", 1)
        return prop, report
    return path.parent.name, stem


def snake(key: str) -> str:
    """'customEvent:event_label' -> 'custom_event_event_label'; 'pagePath' -> 'page_path'."""
    key = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", key)
    return re.sub(r"[^a-z0-9]+", "_", key.lower()).strip("_")


def day_text(value: str | None) -> str | None:
    """'2024-01-04' or GA4's '20240104' -> '2024-01-04' (anything else passes unchanged)."""
    if value is None or not str(value).strip():
        return None
    v = str(value).strip()
    return f"{v[:4]}-{v[4:6]}-{v[6:]}" if re.fullmatch(r"\d{8}", v) else v


def resolve_date(spec: str, taken: dt.date) -> dt.date:
    """A GA4 date-range bound relative to the day a report was taken."""
    spec = spec.strip()
    if spec == "today":
        return taken
    if spec == "yesterday":
        return taken - dt.timedelta(days=1)
    m = _RELATIVE.fullmatch(spec)
    if m:
        return taken - dt.timedelta(days=int(m[1]))
    return dt.date.fromisoformat(spec)


def json_window(report: dict, path: Path) -> tuple[str, int] | None:
    """(last day, days) of a JSON report's date range, from `taken_at` and the query."""
    taken_at, ranges = report.get("taken_at"), (report.get("query") or {}).get("dateRanges") or []
    if not taken_at or not ranges:
        return None
    try:
        stamp = dt.datetime.fromisoformat(str(taken_at).replace("Z", "+00:00"))
        taken = (stamp.astimezone(PROPERTY_ZONE) if stamp.tzinfo else stamp).date()
        start = resolve_date(ranges[0]["startDate"], taken)
        end = resolve_date(ranges[0]["endDate"], taken)
    except (KeyError, ValueError, TypeError) as err:
        raise SourceFileError(str(path), f"cannot read the report's date range ({err})") from err
    return end.isoformat(), (end - start).days + 1


def measure_text(value) -> str | None:
    return None if value is None or str(value).strip() == "" else str(value).strip()


def record(row: dict, prop: str, report: str, day: str, period: int, extra: dict) -> dict:
    """One report row -> a record with the canonical keys and the other columns kept."""
    out: dict = {"_property": prop, "_report": report, "_day": day, "_period_days": str(period)}
    dim_key = next((key for key, _ in DIMENSIONS if key in row), None)
    dim_name = dict(DIMENSIONS).get(dim_key) if dim_key else None
    value = row.get(dim_key) if dim_key else None
    if dim_key == "landing_page" and row.get("domain"):
        value = f"{row['domain']}{row['landing_page']}"
    out["_dimension"], out["_dimension_value"] = dim_name, value
    if dim_name != "channel_group":
        out["_channel_group"] = next((row[k] for k in _CHANNEL_GROUP_KEYS if row.get(k)), None)
    for key, canonical in MEASURES.items():
        if key in row:
            out[f"_{canonical}"] = measure_text(row[key])
    keys = []
    for key in sorted(row):
        if key in MEASURES or key == "date":
            continue
        if key not in OTHER_METRICS:
            keys.append(f"{snake(key)}={row[key]}")
        if key != dim_key or dim_key == "landing_page":
            out[snake(key)] = row[key]
    if "userEngagementDuration" in row and row.get("visits"):
        # GA4 engagement time per session: a measure of its own, not the session duration
        out["avg_engagement_seconds"] = str(float(row["userEngagementDuration"]) / float(row["visits"]))
    out.update(extra)
    out["_row_id"] = f"{prop}:{report}:{day}:{'|'.join(keys) or 'all'}"
    return out


def json_rows(report: dict) -> list[dict]:
    """The report's rows; an empty `data` with a `by_<dimension>` total gives those."""
    data = report.get("data", [])
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise ValueError("expected `data` to be a list of objects")
    if data:
        return data
    totals = report.get("totals") or {}
    metric = next((k for k, v in totals.items() if not k.startswith("by_") and not isinstance(v, dict)), "visits")
    return [
        {key[3:]: name, metric: count}
        for key, breakdown in totals.items()
        if key.startswith("by_") and isinstance(breakdown, dict)
        for name, count in breakdown.items()
    ]


def read_json_report(path: Path) -> list[dict]:
    prop, report_name = names(path)
    try:
        report = json.loads(path.read_text(encoding="utf-8-sig"))
        rows = json_rows(report)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError, ValueError) as err:
        raise SourceFileError(str(path), f"not a DAP JSON report ({err})") from err
    window = json_window(report, path)
    extra = {"taken_at": report.get("taken_at")}
    out = []
    for row in rows:
        if "date" in row:
            out.append(record(row, prop, report_name, day_text(row["date"]), 1, extra))
        elif window is None:
            raise SourceFileError(str(path), "rows without a date and no `taken_at` with a date range")
        else:
            out.append(record(row, prop, report_name, window[0], window[1], extra))
    return out


def read_csv_rows(path: Path) -> list[dict]:
    _, rows = read_csv_records(path)
    # a short row leaves keys None; a long one puts the surplus under None
    return [{k: v for k, v in r.items() if k is not None} for r in rows]


def csv_window(path: Path, report: str, last_days: dict[str, str]) -> tuple[str, int]:
    prop, _ = names(path)
    m = _DAYS_IN_NAME.search(report)
    period = int(m[1]) if m else KNOWN_WINDOWS.get(report)
    named = _DATE_IN_NAME.search(path.name)
    end = "-".join(named.groups()) if named else last_days.get(prop)
    if period is None or end is None:
        raise SourceFileError(
            str(path),
            "the report has no date and its window is unknown: put the window's last day in the "
            f"file name (e.g. {path.stem}_2024-01-04{path.suffix}) or ingest it with the same "
            f"property's daily reports (users.csv) of the same day"
            + ("" if period else "; and the window length in days (e.g. -30-days)"),
        )
    return end, period


class UsDapKind(FeedKind):
    kind = "us_dap"
    entities = ("web_traffic_daily",)
    reads = {
        "web_traffic_daily": Reads(
            suffixed((".csv", ".json")),
            mapped(lambda load, path: load.records(path), WEB_COLUMNS),
            prepare=lambda _, location, paths: _Exports(paths),
        )
    }


class _Exports:
    """The CSV exports of one load, read up front: a rolling-window export without dates
    ends on the last day the property's daily exports report."""

    def __init__(self, paths: list[Path]) -> None:
        self.csv_rows = {p: read_csv_rows(p) for p in paths if p.suffix.lower() == ".csv"}
        self.last_days: dict[str, str] = {}
        for p, rows in self.csv_rows.items():
            days = [d for r in rows if (d := day_text(r.get("date")))]
            if days:
                prop = names(p)[0]
                self.last_days[prop] = max([self.last_days.get(prop, ""), *days])

    def records(self, path: Path) -> list[dict]:
        prop, report = names(path)
        if path not in self.csv_rows:
            return read_json_report(path)
        rows = self.csv_rows[path]
        window = None if not rows or "date" in rows[0] else csv_window(path, report, self.last_days)
        return [record(r, prop, report, *(window or (day_text(r["date"]), 1)), {}) for r in rows]
