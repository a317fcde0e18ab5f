"""Progress lines for people watching a refresh (the CLI shows them; the UI has the logs).

The assets call `progress(message)` for what they are doing and `progress(message,
done=True)` when one step of the refresh is finished (a table's fiscal year loaded, the
dbt build, a publication). Without a display these are plain log lines (the Dagster UI's
runs, the tests). `civic refresh` shows them through `steps(total)`: on a terminal a rich
progress bar (steps n of N, elapsed time, the current activity) with the messages
printed above it, and plain lines `[n/N  12.3s] message` when its output is piped.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
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

    def tool_line(self, line: str) -> None:
        """A line of a tool's own output (dbt's log): shown as it is."""
        self.stream.write(line + "\n")


class _Bar(_Steps):
    """The same on a terminal: the messages scroll above a progress bar."""

    def __init__(self, total: int, stream: TextIO) -> None:
        super().__init__(total, stream)
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.bar = Progress(
            TextColumn("{task.description}", markup=False),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            # a terminal still when Dagster tees a step's output to its compute log
            console=Console(file=stream, force_terminal=True, highlight=False, markup=False, emoji=False),
            transient=True,
            # drawn when something happens, from the thread it happens in (a refresh thread
            # of its own stood still while Dagster ran the dbt step)
            auto_refresh=False,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self.task = self.bar.add_task("starting", total=total)
        self.bar.start()

    def emit(self, record: logging.LogRecord) -> None:
        self.count(record)
        message = record.getMessage()
        self.bar.console.print(message, markup=False, highlight=False)
        self.bar.update(
            self.task, completed=self.done, total=self.total, description=message.strip()[:60], refresh=True
        )

    def tool_line(self, line: str) -> None:
        """dbt's lines only name what it is doing on the bar's line (the failures are summed up after)."""
        if line.strip():
            self.bar.update(self.task, description=line.strip()[:60], refresh=True)

    def close(self) -> None:
        self.bar.stop()
        super().close()


_active: _Steps | None = None


@contextlib.contextmanager
def steps(total: int, stream: TextIO | None = None) -> Iterator[None]:
    """Show the progress messages as steps of `total` while the block runs."""
    global _active
    stream = stream or sys.stdout
    terminal = stream.isatty()
    own = None
    if terminal:
        # The terminal itself, not fd 1: Dagster points fd 1 at a pipe to its compute log
        # while a step runs, and the bar would stand still there.
        with contextlib.suppress(OSError, ValueError, AttributeError):
            own = stream = open(os.dup(stream.fileno()), "w", buffering=1, encoding="utf-8")  # noqa: SIM115
    handler = _Bar(total, stream) if terminal else _Steps(total, stream)
    saved = logger.handlers[:], logger.level, logger.propagate
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False
    _active = handler
    try:
        yield
    finally:
        _active = None
        logger.handlers[:], logger.level, logger.propagate = saved
        handler.close()
        if own is not None:
            own.close()


class _Lines(io.TextIOBase):
    def __init__(self, handler: _Steps) -> None:
        self.handler, self.pending = handler, ""

    def write(self, text: str) -> int:
        *lines, self.pending = (self.pending + text).split("\n")
        for line in lines:
            self.handler.tool_line(line)
        return len(text)


@contextlib.contextmanager
def tool_output() -> Iterator[None]:
    """While steps are shown, route what a tool writes to stdout (dagster-dbt echoes dbt's
    log there) through the display; otherwise (the UI's runs) leave stdout alone."""
    if _active is None:
        yield
        return
    with contextlib.redirect_stdout(_Lines(_active)):
        yield
