"""Progress lines for people watching a refresh (the CLI shows them; the UI has the logs).

The assets call `progress(message)` for what they are doing and `progress(message,
done=True)` when one step of the refresh is finished (a table's fiscal year loaded, the
dbt build, a publication). Without a display these are plain log lines (the Dagster UI's
runs, the tests). `civic refresh` shows them through `steps(total)` as lines
`[n/N  12.3s] message`, on a terminal and piped alike. (A rich progress bar was tried on a
terminal: it stood still while Dagster ran a step, whose output Dagster redirects to its
compute log, so the dbt build looked hung.)
"""

from __future__ import annotations

import contextlib
import logging
import sys
import time
from collections.abc import Iterator
from typing import TextIO

logger = logging.getLogger("civic.progress")

_DONE = "civic_step_done"


def progress(message: str, *, done: bool = False) -> None:
    logger.info(message, extra={_DONE: done})


class _Steps(logging.Handler):
    """Counts the finished steps and shows each message with n of N and the elapsed time."""

    def __init__(self, total: int, stream: TextIO) -> None:
        super().__init__()
        self.total, self.done, self.stream = total, 0, stream
        self.started = time.perf_counter()

    def count(self, record: logging.LogRecord) -> None:
        if getattr(record, _DONE, False):
            self.done += 1
            self.total = max(self.total, self.done)  # feeds add loads no one could count before

    def emit(self, record: logging.LogRecord) -> None:
        self.count(record)
        elapsed = time.perf_counter() - self.started
        width = len(str(self.total))
        self.stream.write(f"[{self.done:>{width}}/{self.total} {elapsed:6.1f}s] {record.getMessage()}\n")
        self.stream.flush()


@contextlib.contextmanager
def steps(total: int, stream: TextIO | None = None) -> Iterator[None]:
    """Show the progress messages as steps of `total` while the block runs."""
    stream = stream or sys.stdout
    handler = _Steps(total, stream)
    saved = logger.handlers[:], logger.level, logger.propagate
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield
    finally:
        logger.handlers[:], logger.level, logger.propagate = saved
        handler.close()
