"""`civic maintenance`: orphan files listed and removed, old snapshots expired (lake/maintenance.py)."""

from __future__ import annotations

import datetime as dt

from lake.settings import Settings
from orchestration.cli.errors import UsageError

# With a served catalog (PostgreSQL) a refresh on another machine may be between writing
# a file and committing it; no bound below this is accepted there.
MIN_SHARED_AGE_HOURS = 1.0


def maintenance_bounds(settings: Settings, older_than: float | None) -> dt.timedelta:
    hours = settings.orphan_min_age_hours if older_than is None else older_than
    if hours < 0:
        raise UsageError(f"--older-than must not be negative, got {hours:g}")
    if not settings.catalog_is_sqlite and hours < MIN_SHARED_AGE_HOURS:
        raise UsageError(
            f"--older-than {hours:g}: with a shared catalog a running load may still register a "
            f"younger file; use at least {MIN_SHARED_AGE_HOURS:g} hour(s)"
        )
    return dt.timedelta(hours=hours)


def age_text(age: dt.timedelta) -> str:
    seconds = age.total_seconds()
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 86400 * 2:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.0f} d"
