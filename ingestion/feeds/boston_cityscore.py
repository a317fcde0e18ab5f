"""Boston CityScore (Analyze Boston), as cleaned CSVs: the current summary (`metric_name`,
`score_calculated_ts`, previous day/week/month/quarter scores, `score_day_name`) and the
history table (`cty_scr_*`: per window the metric's value and count, its target, the
trend average and deviation, the four scores, `etl_load_date` in epoch microseconds).

CityScore publishes scores: value / target (target / value where lower is better),
capped at 1.25, or a trend metric against its own history. Each metric x window becomes a
`kpi_observations` row of kpi `indicator`: the metric as service and dimension, the score
as value (unit `score`, 1 = on target), the window as period (trailing, not calendar) and
the day scored (`score_day_name`, on or before the calculation date) as period_start.
The history file's value, count and target for the window are kept beside the score.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from ingestion.errors import SourceFileError
from ingestion.feeds.base import (
    FeedKind,
    Reads,
    mapped,
    read_csv_records,
    suffixed,
)
from ingestion.feeds.kpi_feeds import KPI_COLUMNS, observation

PUBLISHER = "boston_cityscore"
WINDOWS = ("day", "week", "month", "quarter")
_SUMMARY = {w: f"previous_{w}_score" for w in WINDOWS}
_HISTORY = {"day": "dy", "week": "wk", "month": "mo", "quarter": "qt"}


def _text(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def scored_day(calculated: dt.datetime | None, day_name: str | None) -> dt.date | None:
    """The day a score is for: the latest `day_name` on or before the calculation date
    (scores calculated early on Saturday are Friday's)."""
    if calculated is None:
        return None
    day = calculated.date()
    if not day_name:
        return day
    for back in range(7):
        candidate = day - dt.timedelta(days=back)
        if candidate.strftime("%A").lower() == day_name.strip().lower():
            return candidate
    return day


def _timestamp(value: str | None) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(value.strip()) if value and value.strip() else None
    except ValueError:
        return None


def _epoch_micros(value: str | None) -> dt.datetime | None:
    try:
        return (
            dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=int(float(value))) if value and value.strip() else None
        )
    except (ValueError, OverflowError):
        return None


def _record(row: dict, metric: str | None, window: str, day: dt.date | None, score: str | None, extra: dict) -> dict:
    start = day.isoformat() if day else None
    record = {k: _text(v) for k, v in row.items() if k is not None}
    record.update(extra)
    record.update(observation(PUBLISHER, metric, metric, "indicator", metric, None, start, window, score, "score"))
    # four windows share a day: the window is part of the key
    record["_observation_id"] = f"{PUBLISHER}/{metric}/{window}/{start}" if metric and start else None
    return record


def records_of(path: Path) -> list[dict]:
    header, rows = read_csv_records(path)
    records = []
    if "metric_name" in header:  # the current summary: scores only
        for row in rows:
            metric = _text(row.get("metric_name"))
            day = scored_day(_timestamp(row.get("score_calculated_ts")), row.get("score_day_name"))
            for window in WINDOWS:
                records.append(_record(row, metric, window, day, _text(row.get(_SUMMARY[window])), {}))
    elif "cty_scr_name" in header:  # the history table: value, count, target and score
        for row in rows:
            metric = _text(row.get("cty_scr_name"))
            day = scored_day(_epoch_micros(row.get("etl_load_date")), row.get("cty_scr_day_name"))
            for window in WINDOWS:
                code = _HISTORY[window]
                extra = {
                    "metric_value": _text(row.get(f"cty_scr_nbr_{code}_01")),
                    "metric_count": _text(row.get(f"cty_scr_nbr_{code}_02")),
                    "target": _text(row.get("cty_scr_tgt_01")),
                }
                records.append(_record(row, metric, window, day, _text(row.get(f"cty_scr_{window}")), extra))
    else:
        raise SourceFileError(str(path), "not a CityScore table (no metric_name or cty_scr_name column)")
    return records


class BostonCityScoreKind(FeedKind):
    kind = "boston_cityscore"
    entities = ("kpi_observations",)
    reads = {"kpi_observations": Reads(suffixed((".csv",)), mapped(lambda _, path: records_of(path), KPI_COLUMNS))}
