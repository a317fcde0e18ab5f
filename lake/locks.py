"""Cross-process locks on this machine, for the resources that take one writer at a time:
the DuckDB file of the marts, and the SQLite catalog of the embedded profile."""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path


@contextlib.contextmanager
def exclusive(path: Path, what: str, on_wait: Callable[[str], None] | None = None) -> Iterator[float]:
    """Hold an exclusive lock on `path`; yields the seconds spent waiting for it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with open(path, "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait:
                on_wait(f"waiting for {what} (another process holds {path.name})")
            fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield time.monotonic() - started
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def catalog_write_lock(settings, on_wait: Callable[[str], None] | None = None):
    """Serialise writers of an embedded SQLite catalog; PostgreSQL takes concurrent commits."""
    if not settings.catalog_is_sqlite:
        return contextlib.nullcontext(0.0)
    return exclusive(settings.home / "locks" / "catalog.lock", "the SQLite catalog", on_wait)


def marts_lock(settings, on_wait: Callable[[str], None] | None = None):
    """One writer at a time for the DuckDB file of the marts."""
    return exclusive(settings.home / "locks" / "marts.lock", "the marts database", on_wait)


def refresh_lock(settings, on_wait: Callable[[str], None] | None = None):
    """The embedded profile runs one refresh at a time: whoever holds this lock knows no
    commit is in flight (`civic maintenance` may then remove even the youngest orphans)."""
    if not settings.catalog_is_sqlite:
        return contextlib.nullcontext(0.0)
    return exclusive(settings.home / "locks" / "refresh.lock", "another refresh of this CIVIC_HOME", on_wait)


def pid_alive(pid: int) -> bool:
    """Whether a process of this machine still runs (a process of another user counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
