"""Event times inside a fiscal year (calendar year in the demo) as epoch seconds.

Why epoch seconds: integer arithmetic keeps planted waits exact to the second; the
columns become naive timestamp[us] only at the end.
"""

from __future__ import annotations

import calendar
import datetime as dt

import polars as pl

DAY = 86_400
TS = pl.Datetime("us")
ISO = "%Y-%m-%dT%H:%M:%S"


def year_start(year: int) -> int:
    return calendar.timegm(dt.datetime(year, 1, 1).timetuple())


def _days(year: int, weekdays_only: bool) -> list[int]:
    n = 366 if calendar.isleap(year) else 365
    first = dt.date(year, 1, 1).weekday()
    return [d for d in range(n) if not weekdays_only or (first + d) % 7 < 5]


def moment(year: int, u_day: str, u_time: str, opens_h: float, hours: float, weekdays_only: bool) -> pl.Expr:
    """Epoch seconds: a day of the year (optionally Mon-Fri) and a time within opening hours."""
    days = pl.Series(_days(year, weekdays_only), dtype=pl.Int64)
    day = pl.lit(days).gather((pl.col(u_day) * len(days)).cast(pl.Int64))
    seconds = int(opens_h * 3600) + (pl.col(u_time) * int(hours * 3600)).cast(pl.Int64)
    return year_start(year) + day * DAY + seconds


def to_timestamp(seconds: pl.Expr) -> pl.Expr:
    return pl.from_epoch(seconds, time_unit="s").cast(TS)
