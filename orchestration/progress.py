"""Progress of a refresh for people watching it (the CLI shows it; the UI has the logs).

The assets call `progress(message)` for what they are doing and `progress(message,
done=True)` when one step of the refresh is finished (a table's fiscal year loaded, the
dbt build, a publication). Without a display these are plain log lines (the Dagster UI's
runs, the tests). `civic refresh` shows them through `steps(total)`:

- piped or redirected, as lines `[n/N  12.3s] message`, one a message;
- on a terminal, as the same lines above a rich progress bar (n of N, the elapsed time
  ticking, the step in progress). While Dagster runs a step it points file descriptors 1
  and 2 at the step's compute log (and mirrors it back to them), so the bar writes to a
  duplicate of the terminal's descriptor taken before the run starts: it keeps moving
  through a 20 s dbt build. Given a `log`, descriptors 1 and 2 go to that file while the
  block runs: dbt's 400 lines of a build and Dagster's own log lines land there (and in
  the run's compute logs in the UI), not through the bar.

No time remaining is shown: the steps are far from even (a year's loads take seconds, the
dbt build of five years a minute), so a rate over finished steps would mislead.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

logger = logging.getLogger("civic.progress")

_DONE = "civic_step_done"
_STATUS = "civic_step_status"


def progress(message: str, *, done: bool = False, status: bool = False) -> None:
    """`done`: a step finished; `status`: how far the step in progress is (the bar shows
    it, the plain lines leave it out: a line for each of dbt's 400 results is noise)."""
    logger.info(message, extra={_DONE: done, _STATUS: status})


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

    def line(self, record: logging.LogRecord) -> str:
        elapsed = time.perf_counter() - self.started
        width = len(str(self.total))
        return f"[{self.done:>{width}}/{self.total} {elapsed:6.1f}s] {record.getMessage()}"

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(record, _STATUS, False):
            return
        self.count(record)
        self.stream.write(self.line(record) + "\n")
        self.stream.flush()

    def finish(self) -> None:
        """Not `close()`: a library's logging.config.dictConfig closes every handler."""


class _Bar(_Steps):
    """The lines above a live progress bar, on a duplicate of the terminal's descriptor."""

    def __init__(self, total: int, stream: TextIO, log: Path | None) -> None:
        super().__init__(total, stream)
        stream.flush()
        self.terminal = os.fdopen(os.dup(stream.fileno()), "w", buffering=1, encoding="utf-8")
        self.saved: list[int] = []
        if log is not None:  # the output of the steps goes to the log, the bar to the terminal
            log.parent.mkdir(parents=True, exist_ok=True)
            sys.stderr.flush()
            with open(log, "ab") as out:
                for fd in (1, 2):
                    self.saved.append(os.dup(fd))
                    os.dup2(out.fileno(), fd)
        console = Console(file=self.terminal, force_terminal=True, highlight=False)
        self.bar = Progress(
            TextColumn("{task.description}", style="bold"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            redirect_stdout=False,  # a step's own output stays in its Dagster compute log
            redirect_stderr=False,
            refresh_per_second=4,
        )
        self.task = self.bar.add_task("starting", total=total)
        self.bar.start()

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(record, _STATUS, False):
            self.bar.update(self.task, description=record.getMessage().strip()[:48])
            return
        self.count(record)
        self.bar.console.print(self.line(record), markup=False, soft_wrap=True)
        step = record.getMessage().strip()
        self.bar.update(self.task, total=self.total, completed=self.done, description=step[:48])

    def finish(self) -> None:
        self.bar.stop()
        sys.stdout.flush()
        sys.stderr.flush()
        for fd, saved in zip((1, 2), self.saved, strict=False):
            os.dup2(saved, fd)
            os.close(saved)
        self.terminal.close()


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty() and stream.fileno() >= 0 and os.environ.get("TERM") != "dumb"
    except (AttributeError, OSError, ValueError):  # a StringIO, a closed stream
        return False


@contextlib.contextmanager
def steps(total: int, stream: TextIO | None = None, log: Path | None = None) -> Iterator[None]:
    """Show the progress messages as steps of `total` while the block runs; on a terminal,
    with the block's own output sent to `log` when one is given."""
    stream = stream or sys.stdout
    handler = _Bar(total, stream, log) if _is_terminal(stream) else _Steps(total, stream)
    saved = logger.handlers[:], logger.level, logger.propagate
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield
    finally:
        logger.handlers[:], logger.level, logger.propagate = saved
        handler.finish()
