"""Fiscal years: labelled by the calendar year in which they end.

With a start month of 4 (UK, Canada), FY2025 runs from 2024-04-01 to 2025-03-31; with the
default start month of 1 it is the calendar year.
"""

from __future__ import annotations

import datetime as dt

import polars as pl


def fiscal_year_window(fiscal_year: int, start_month: int = 1) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of a fiscal year as naive datetimes."""
    _check_month(start_month)
    if start_month == 1:
        return dt.datetime(fiscal_year, 1, 1), dt.datetime(fiscal_year + 1, 1, 1)
    return dt.datetime(fiscal_year - 1, start_month, 1), dt.datetime(fiscal_year, start_month, 1)


def fiscal_year_of(moment: dt.date | dt.datetime, start_month: int = 1) -> int:
    """The fiscal year a date or timestamp belongs to."""
    _check_month(start_month)
    if start_month == 1:
        return moment.year
    return moment.year + 1 if moment.month >= start_month else moment.year


def fiscal_year_expr(column: str, start_month: int = 1) -> pl.Expr:
    """Polars expression: the fiscal year of a timestamp column (null stays null)."""
    _check_month(start_month)
    year = pl.col(column).dt.year()
    if start_month == 1:
        return year.cast(pl.Int32)
    return (year + (pl.col(column).dt.month() >= start_month).cast(pl.Int32)).cast(pl.Int32)


def parse_years(spec: str) -> list[int]:
    """'2024' -> [2024]; '2021:2025' -> [2021..2025]; '2021,2023' -> [2021, 2023]."""
    years: list[int] = []
    for part in spec.replace(" ", "").split(","):
        if not part:
            continue
        if ":" in part:
            first, last = (int(x) for x in part.split(":", 1))
            if last < first:
                raise ValueError(f"year range {part!r} ends before it starts")
            years.extend(range(first, last + 1))
        else:
            years.append(int(part))
    if not years:
        raise ValueError(f"no fiscal years in {spec!r}")
    return sorted(set(years))


def _check_month(start_month: int) -> None:
    if not 1 <= start_month <= 12:
        raise ValueError(f"fiscal year start month must be 1..12, got {start_month}")
