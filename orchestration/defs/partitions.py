"""Fiscal-year partitions and the pure helpers that turn a partition into fiscal years.

Dagster has no yearly partitions class: a TimeWindowPartitionsDefinition with a yearly
cron at the fiscal year's start month does it. The first year is pinned (never computed
from now()); `end_offset=1` also offers the fiscal year in progress.

A window's key is the calendar year in which it starts. With the default start month
(January) that is the fiscal year; for other start months the fiscal year, labelled by
the year in which it ends, is the key + 1 (`fiscal_year_of_key`).
"""

from __future__ import annotations

import datetime as dt
import os

import dagster as dg

FIRST_FISCAL_YEAR = 2021


def start_month_from_env() -> int:
    return int(os.environ.get("CIVIC_FY_START_MONTH", "1"))


def fiscal_year_partitions(start_month: int = 1, first_fiscal_year: int = FIRST_FISCAL_YEAR) -> dg.TimeWindowPartitionsDefinition:
    first_start_year = first_fiscal_year if start_month == 1 else first_fiscal_year - 1
    return dg.TimeWindowPartitionsDefinition(
        cron_schedule=f"0 0 1 {start_month} *",
        fmt="%Y",
        start=dt.datetime(first_start_year, start_month, 1),
        end_offset=1,
    )


def fiscal_year_of_key(key: str, start_month: int = 1) -> int:
    """The fiscal year (labelled by the year it ends) of a partition key."""
    year = int(key)
    return year if start_month == 1 else year + 1


def key_of_fiscal_year(fiscal_year: int, start_month: int = 1) -> str:
    return str(fiscal_year if start_month == 1 else fiscal_year - 1)


def fiscal_years_of_keys(keys: list[str], start_month: int = 1) -> list[int]:
    return sorted({fiscal_year_of_key(k, start_month) for k in keys})


def dbt_vars(fiscal_years: list[int]) -> dict:
    """The dbt `--vars` for a run over these fiscal years."""
    if not fiscal_years:
        raise ValueError("a dbt run needs at least one fiscal year")
    return {"fiscal_years": sorted({int(y) for y in fiscal_years})}


def closed_fiscal_year(moment: dt.datetime, start_month: int = 1) -> int:
    """The latest fiscal year that had ended by `moment` (what the yearly refresh loads)."""
    current = moment.year if start_month == 1 or moment.month < start_month else moment.year + 1
    return current - 1
