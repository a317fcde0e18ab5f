"""`civic ui`: `dagster dev` (webserver, daemon, code servers) that stops as a whole.

`dagster dev` runs in a process group of its own; on Ctrl-C or SIGTERM `civic ui` asks
it to stop (SIGINT, on which `dagster dev` stops its services in order), then insists
(SIGTERM, then SIGKILL) on whatever is left of the group and of the processes it
started: a `dagster dev` still loading the code location ignores SIGINT, and nothing may
outlive the command.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import psutil

# `dagster dev` is what serves a local UI with its daemon; Dagster prefers its new `dg` CLI,
# which this project does not install, and says so on every start.
QUIET = "ignore:Function `dev_command` is superseded"


def dagster_dev_command(port: int) -> list[str]:
    return [
        str(Path(sys.executable).with_name("dagster")),
        "dev",
        "-m",
        "orchestration.definitions",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]


def _alive(processes: list[psutil.Process]) -> list[psutil.Process]:
    return [p for p in processes if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]


def stop_tree(proc: subprocess.Popen, grace: float = 15) -> list[int]:
    """Stop `proc`'s process group and every process it started; the pids that needed more
    than SIGINT."""
    try:
        family = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        family = []
    insisted: list[int] = []
    for sig, wait in ((signal.SIGINT, grace), (signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        left = _alive(family)
        if not left:
            break
        if sig == signal.SIGINT:  # dagster dev itself: it stops its services in order
            proc.send_signal(sig)
        else:
            insisted += [p.pid for p in left]
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                pass
            for p in left:  # one that left the group (a new session of its own)
                try:
                    p.send_signal(sig)
                except psutil.NoSuchProcess:
                    pass
        deadline = time.monotonic() + wait
        while _alive(family) and time.monotonic() < deadline:
            proc.poll()  # reap the leader
            time.sleep(0.2)
    proc.poll()
    return insisted


def run_ui(port: int, env: Mapping[str, str], cwd: Path) -> int:
    """Run `dagster dev` until it exits or this process is interrupted (Ctrl-C, SIGTERM)."""

    def terminate(signum, frame):  # noqa: ANN001 - a signal handler's signature
        raise KeyboardInterrupt

    # Both handlers set here, not inherited, and before dagster dev starts: a process
    # started with SIGINT ignored (a script's background job, nohup, a test runner's child)
    # would otherwise outlive Ctrl-C.
    stops = (signal.SIGINT, signal.SIGTERM)
    previous = {sig: signal.signal(sig, terminate) for sig in stops}
    signal.pthread_sigmask(signal.SIG_UNBLOCK, stops)
    warnings = ",".join(filter(None, [env.get("PYTHONWARNINGS"), QUIET]))
    proc: subprocess.Popen | None = None
    try:
        proc = subprocess.Popen(
            dagster_dev_command(port),
            env={**env, "PYTHONWARNINGS": warnings},
            # not the repository: its dagster.yaml there makes Dagster warn that DAGSTER_HOME's wins
            cwd=cwd,
            start_new_session=True,  # Ctrl-C reaches civic, which stops the whole group
        )
        return proc.wait()
    except KeyboardInterrupt:
        print("stopping the Dagster UI (webserver, daemon and code servers)", file=sys.stderr)
        if proc is not None:
            stop_tree(proc)
        return 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
