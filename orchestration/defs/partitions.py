"""Fiscal-year partitions and the pure helpers that turn a partition into fiscal years.

Dagster has no yearly partitions class: a TimeWindowPartitionsDefinition with a yearly
cron at the fiscal year's start month does it. The first year is pinned (never computed
from now()); `end_offset=1` also offers the fiscal year in progress.

A window's key is the calendar year in which it starts (`FiscalCalendar.key_of`). With the
default start month (January) that is the fiscal year; for other start months the fiscal
year, labelled by the year in which it ends, is the key + 1 (`FiscalCalendar.year_of_key`).
The years of a partition (range) travel as one sorted list of ints, down to dbt's --vars.
"""

from __future__ import annotations

from collections.abc import Iterable

import dagster as dg

from contracts.fiscal_year import FiscalCalendar

FIRST_FISCAL_YEAR = 2021


def fiscal_year_partitions(
    calendar: FiscalCalendar, first_fiscal_year: int = FIRST_FISCAL_YEAR
) -> dg.TimeWindowPartitionsDefinition:
    return dg.TimeWindowPartitionsDefinition(
        cron_schedule=f"0 0 1 {calendar.start_month} *",
        fmt="%Y",
        start=calendar.window(first_fiscal_year)[0],
        end_offset=1,
    )


def fiscal_years_of_keys(keys: Iterable[str], calendar: FiscalCalendar) -> list[int]:
    """The fiscal years of some partition keys, sorted and without repeats."""
    return sorted({calendar.year_of_key(k) for k in keys})


def dbt_vars(fiscal_years: list[int], calendar: FiscalCalendar) -> dict:
    """The dbt `--vars` for a run over these fiscal years."""
    if not fiscal_years:
        raise ValueError("a dbt run needs at least one fiscal year")
    return {"fiscal_years": sorted({int(y) for y in fiscal_years}), "fy_start_month": calendar.start_month}
