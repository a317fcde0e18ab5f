"""Fiscal years: labelled by the calendar year in which they end.

With a start month of 4 (UK, Canada), FY2025 runs from 2024-04-01 to 2025-03-31; with the
default start month of 1 it is the calendar year. One `FiscalCalendar`, built once from the
settings (`Settings.calendar`), answers every fiscal-year question of a run.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # polars is imported where an expression is built: the settings (and so
    import polars as pl  # `civic query`, which starts light) hold a calendar


@dataclass(frozen=True)
class FiscalCalendar:
    """Fiscal years starting on the first day of `start_month` (1..12)."""

    start_month: int = 1

    def __post_init__(self) -> None:
        if not 1 <= self.start_month <= 12:
            raise ValueError(f"fiscal year start month must be 1..12, got {self.start_month}")

    @property
    def _shift(self) -> int:
        """Years from the calendar year a fiscal year starts in to its label."""
        return 0 if self.start_month == 1 else 1

    def window(self, fiscal_year: int) -> tuple[dt.datetime, dt.datetime]:
        """[start, end) of a fiscal year as naive datetimes."""
        start_year = fiscal_year - self._shift
        return dt.datetime(start_year, self.start_month, 1), dt.datetime(start_year + 1, self.start_month, 1)

    def year_of(self, moment: dt.date | dt.datetime) -> int:
        """The fiscal year a date or timestamp belongs to."""
        return moment.year + self._shift if moment.month >= self.start_month else moment.year

    def year_expr(self, column: str) -> pl.Expr:
        """Polars expression: the fiscal year of a timestamp column (null stays null)."""
        import polars as pl

        year = pl.col(column).dt.year()
        if self.start_month == 1:
            return year.cast(pl.Int32)
        return (year + (pl.col(column).dt.month() >= self.start_month).cast(pl.Int32)).cast(pl.Int32)

    def closed_year(self, moment: dt.date | dt.datetime) -> int:
        """The latest fiscal year that had ended by `moment` (what the yearly refresh loads)."""
        return self.year_of(moment) - 1

    def year_of_key(self, key: str) -> int:
        """The fiscal year of a partition key: the calendar year in which the year starts."""
        return int(key) + self._shift

    def key_of(self, fiscal_year: int) -> str:
        """The partition key of a fiscal year."""
        return str(fiscal_year - self._shift)


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
