"""Fiscal years: labelled by the calendar year in which they end.

With a start month of 4 (UK, Canada), FY2025 runs from 2024-04-01 to 2025-03-31; with the
default start month of 1 it is the calendar year. One `FiscalCalendar`, built once from the
settings (`Settings.calendar`), answers every fiscal-year question of a run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
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


# The fiscal years the lakehouse can refresh (`CIVIC_FISCAL_YEARS`, FIRST:LAST): pinned, never
# computed from the clock, so a code location's partitions never change with the date. The
# default covers the real published data (Open311 FY2012, Madrid FY2012-2015, Canadian forward
# plans FY2027-2028) and the demo (FY2021-2025 and its plan year FY2026).
DEFAULT_FISCAL_YEARS = (2010, 2030)


@dataclass(frozen=True)
class FiscalYears:
    """The configured fiscal years, FIRST..LAST inclusive (the Dagster partitions)."""

    first: int = DEFAULT_FISCAL_YEARS[0]
    last: int = DEFAULT_FISCAL_YEARS[1]

    def __post_init__(self) -> None:
        if not 1900 <= self.first <= self.last <= 2200:
            raise ValueError(f"fiscal years must be FIRST:LAST with 1900 <= FIRST <= LAST <= 2200, got {self}")

    def __str__(self) -> str:
        return f"FY{self.first}..FY{self.last}"

    def __contains__(self, fiscal_year: object) -> bool:
        return isinstance(fiscal_year, int) and self.first <= fiscal_year <= self.last

    def __iter__(self):
        return iter(range(self.first, self.last + 1))

    def outside(self, fiscal_years: Iterable[int]) -> list[int]:
        """The years not covered, sorted and without repeats."""
        return sorted({y for y in fiscal_years if y not in self})

    @classmethod
    def parse(cls, spec: str) -> FiscalYears:
        """'2010:2030' -> FY2010..FY2030 (`CIVIC_FISCAL_YEARS`)."""
        first, sep, last = spec.replace(" ", "").partition(":")
        try:
            if not sep:
                raise ValueError
            return cls(int(first), int(last))
        except ValueError:
            raise ValueError(
                f"CIVIC_FISCAL_YEARS must be FIRST:LAST with 1900 <= FIRST <= LAST <= 2200 "
                f"(e.g. {DEFAULT_FISCAL_YEARS[0]}:{DEFAULT_FISCAL_YEARS[1]}), got {spec!r}"
            ) from None


def check_years(years: Iterable[int], fiscal_years: FiscalYears) -> list[int]:
    """The years asked for, sorted; a ValueError (one line) naming the valid range if any is outside."""
    asked = sorted(set(years))
    if outside := fiscal_years.outside(asked):
        named = ", ".join(f"FY{y}" for y in outside)
        raise ValueError(
            f"{named} {'is' if len(outside) == 1 else 'are'} outside the fiscal years {fiscal_years} "
            "(set CIVIC_FISCAL_YEARS=FIRST:LAST to widen them)"
        )
    return asked


def outside_note(loaded: Iterable[int | None], fiscal_years: FiscalYears) -> str | None:
    """`civic ingest`: one line naming the loaded years no refresh can use, if any."""
    outside = fiscal_years.outside(y for y in loaded if y is not None)
    if not outside:
        return None
    named = ", ".join(f"FY{y}" for y in outside)
    first, last = min(fiscal_years.first, outside[0]), max(fiscal_years.last, outside[-1])
    return (
        f"note: loaded {named}, outside the fiscal years {fiscal_years} a refresh can build; "
        f"set CIVIC_FISCAL_YEARS={first}:{last} to widen them"
    )
