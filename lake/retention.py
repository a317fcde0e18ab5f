"""Retention from the data-use register: a dataset's rows are kept `retention_years` after
their fiscal year ends, then removed from the raw table and the quarantine with their
snapshots and files (lake.erasure), each rewrite an entry of the ledger's chain.

A fiscal year is past retention when it ended before `today - retention_years`, i.e. it
is older than the fiscal year that date falls in. Quarantined rows whose fiscal year
could not be told have no year to age by and are kept. Datasets the register does not
list (no personal field) have no retention and are never touched.
"""

from __future__ import annotations

import datetime as dt

from contracts.fiscal_year import FiscalCalendar
from contracts.register import DatasetUse


def first_kept_years(register: dict[str, DatasetUse], calendar: FiscalCalendar, today: dt.date) -> dict[str, int]:
    """entity -> the oldest fiscal year still within its retention on `today`."""
    out = {}
    for name, use in register.items():
        try:
            horizon = today.replace(year=today.year - use.retention_years)
        except ValueError:  # 29 February
            horizon = today.replace(year=today.year - use.retention_years, day=28)
        out[name] = calendar.year_of(horizon)
    return out
