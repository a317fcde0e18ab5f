"""A refresh obeys a stop request, and shows it is alive while it runs.

Stop: Dagster catches SIGINT and SIGTERM while it executes and raises them in the running
step, where a retry policy turns the interrupt into a retry (meant for a preempted pod):
a `civic refresh` sent SIGTERM by systemd, Kubernetes or `timeout` then carried on for
minutes. The guard sees the signal through the interpreter's wakeup file descriptor (which
every signal with a Python handler writes to, whoever's handler it is) and, in a thread of
its own: ends the child processes (dbt), marks the current run canceled, frees its pool
slots and exits with 128 + the signal number. The flock locks go with the process. Data
stays whole: every commit is atomic, so stopping here is no worse than a SIGKILL, which the
crash test (bench/crash_test.py) shows a re-run recovers from.

Heartbeat: the same thread renews the run's `civic/heartbeat` tag every HEARTBEAT_SECONDS,
by which a refresh on another host tells a live run from a dead one (stale_runs.py).
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import sys
import threading
import time
from types import FrameType

import dagster as dg
import psutil

from orchestration.services.stale_runs import HEARTBEAT_SECONDS, HEARTBEAT_TAG

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
CHILD_GRACE_SECONDS = 3.0  # dbt gets this long to end after SIGTERM, then SIGKILL


def _noted(_signum: int, _frame: FrameType | None) -> None:
    """Outside Dagster's execution the signal only wakes the guard's thread."""


def stop_children(grace: float = CHILD_GRACE_SECONDS) -> int:
    """End every descendant process (dbt and its helpers); returns how many there were."""
    children = psutil.Process().children(recursive=True)
    for child in children:
        with contextlib.suppress(psutil.NoSuchProcess):
            child.terminate()
    _, alive = psutil.wait_procs(children, timeout=grace)
    for child in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            child.kill()
    return len(children)


class RunGuard:
    """Use as a context manager around the runs of one refresh; `guard.run_id` is the run
    in progress (None between runs)."""

    def __init__(self, instance: dg.DagsterInstance, heartbeat_seconds: float = HEARTBEAT_SECONDS):
        self.instance = instance
        self.heartbeat_seconds = heartbeat_seconds
        self.run_id: str | None = None
        self._done = threading.Event()
        self._fds: tuple[int, int] | None = None
        self._previous: dict[int, object] = {}
        self._previous_fd = -1
        self._thread: threading.Thread | None = None

    def __enter__(self) -> RunGuard:
        read, write = os.pipe()
        os.set_blocking(write, False)
        try:
            self._previous_fd = signal.set_wakeup_fd(write, warn_on_full_buffer=False)
        except ValueError:  # not the main thread: no stop handling, the heartbeat still runs
            os.close(write)
            write = -1
        else:
            for sig in STOP_SIGNALS:
                self._previous[sig] = signal.signal(sig, _noted)
        self._fds = (read, write)
        self._thread = threading.Thread(target=self._watch, name="civic-run-guard", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._done.set()
        assert self._fds is not None
        read, write = self._fds
        if write >= 0:
            signal.set_wakeup_fd(self._previous_fd)
            for sig, handler in self._previous.items():
                signal.signal(sig, handler)  # type: ignore[arg-type]
            os.write(write, b"\0")  # wake the thread so it sees _done
        if self._thread:
            self._thread.join(timeout=5)
        for fd in (read, write):
            if fd >= 0:
                os.close(fd)

    def _watch(self) -> None:
        assert self._fds is not None
        read = self._fds[0]
        next_beat = time.monotonic() + self.heartbeat_seconds
        while not self._done.is_set():
            ready, _, _ = select.select([read], [], [], max(0.0, next_beat - time.monotonic()))
            if ready:
                for signum in os.read(read, 64):
                    if signum in STOP_SIGNALS and not self._done.is_set():
                        self._stop(signum)
            if time.monotonic() >= next_beat:
                self._beat()
                next_beat = time.monotonic() + self.heartbeat_seconds

    def _beat(self) -> None:
        run_id = self.run_id
        if run_id:
            with contextlib.suppress(Exception):  # a busy storage: the next beat will do
                self.instance.add_run_tags(run_id, {HEARTBEAT_TAG: str(int(time.time()))})

    def _stop(self, signum: int) -> None:
        name = signal.Signals(signum).name
        run_id = self.run_id
        print(f"Stop requested ({name}): stopping the refresh", file=sys.stderr, flush=True)
        stopped = stop_children()
        note = []
        if stopped:
            note.append(f"{stopped} child process(es) ended")
        if run_id:
            try:
                run = self.instance.get_run_by_id(run_id)
                if run is not None and not run.is_finished:
                    self.instance.report_run_canceled(run, f"Stopped by {name}.")
                    note.append(f"run {run_id[:8]} marked canceled")
                if self.instance.event_log_storage.supports_global_concurrency_limits:
                    self.instance.event_log_storage.free_concurrency_slots_for_run(run_id)
                    note.append("its pool slots freed")
            except Exception as err:  # the next refresh's recovery will finish the job
                note.append(f"run {run_id[:8]} left to the next refresh ({' '.join(str(err).split())[:120]})")
        print(f"Refresh stopped by {name}: {', '.join(note) or 'nothing was running'}", file=sys.stderr, flush=True)
        sys.stdout.flush()
        os._exit(128 + signum)
