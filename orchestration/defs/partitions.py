"""Fiscal-year partitions and the pure helpers that turn a partition into fiscal years.

The partitions are the configured fiscal years (`CIVIC_FISCAL_YEARS`, `Settings.fiscal_years`),
first and last pinned: a StaticPartitionsDefinition of year keys, never computed from now(),
so a code location's partitions do not change with the clock (a time-window definition
stops at the current time, and its future plan years would come and go with the date).
Ranges of them still run as one run (single-run backfill policy, partition range tags).

A year's key is the calendar year in which it starts (`FiscalCalendar.key_of`), as it was
when the partitions were yearly time windows, so earlier Dagster history stays valid. With the
default start month (January) that is the fiscal year; for other start months the fiscal
year, labelled by the year in which it ends, is the key + 1 (`FiscalCalendar.year_of_key`).
The years of a partition (range) travel as one sorted list of ints, down to dbt's --vars.
"""

from __future__ import annotations

from collections.abc import Iterable

import dagster as dg

from contracts.fiscal_year import FiscalCalendar, FiscalYears

DEFAULT_YEARS = FiscalYears()


def fiscal_year_partitions(
    calendar: FiscalCalendar, fiscal_years: FiscalYears = DEFAULT_YEARS
) -> dg.StaticPartitionsDefinition:
    """One partition per configured fiscal year, keyed by `calendar.key_of`, in year order."""
    return dg.StaticPartitionsDefinition([calendar.key_of(y) for y in fiscal_years])


def fiscal_years_of_keys(keys: Iterable[str], calendar: FiscalCalendar) -> list[int]:
    """The fiscal years of some partition keys, sorted and without repeats."""
    return sorted({calendar.year_of_key(k) for k in keys})


def dbt_vars(fiscal_years: list[int], calendar: FiscalCalendar) -> dict:
    """The dbt `--vars` for a run over these fiscal years."""
    if not fiscal_years:
        raise ValueError("a dbt run needs at least one fiscal year")
    return {"fiscal_years": sorted({int(y) for y in fiscal_years}), "fy_start_month": calendar.start_month}
