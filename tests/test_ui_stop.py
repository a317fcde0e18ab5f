"""`civic ui` stops as a whole on SIGTERM and on Ctrl-C (SIGINT): the webserver, the daemon
and the code servers of `dagster dev` are gone with it; and it starts without Dagster's
notices about `dg dev` or a dagster.yaml in the current folder."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

from tests.conftest import TEST_PSEUDONYM_KEY

REPO = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serves(port: int) -> bool:
    query = {"query": "{ version }"}
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps(query).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        return "version" in json.loads(urllib.request.urlopen(req, timeout=5).read())["data"]
    except (OSError, KeyError, TypeError, ValueError):
        return False


def _family(pid: int) -> list[psutil.Process]:
    try:
        return [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def _alive(processes: list[psutil.Process]) -> list[str]:
    return [" ".join(p.cmdline()[:4]) for p in processes if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_civic_ui_stops_with_everything_it_started(tmp_path, sig):
    port = _free_port()
    env = {**os.environ, "CIVIC_HOME": str(tmp_path / "civic"), "CIVIC_PSEUDONYM_KEY": TEST_PSEUDONYM_KEY}
    env.pop("DAGSTER_HOME", None)
    log = tmp_path / "ui.log"
    with open(log, "w") as out:
        civic = subprocess.Popen(
            [str(Path(sys.executable).with_name("civic")), "ui", "--port", str(port)],
            cwd=REPO,  # the repository's own dagster.yaml is in this folder
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            # as a script's background job (`civic ui &`) starts it: SIGINT ignored, which
            # Python keeps (no KeyboardInterrupt) unless civic ui sets its own handler
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
        )
    seen: dict[int, psutil.Process] = {}
    try:
        deadline = time.monotonic() + 300
        # SIGTERM once the UI serves; SIGINT (Ctrl-C) while dagster dev still loads, when
        # it does not yet listen to SIGINT itself
        while not (_serves(port) if sig == signal.SIGTERM else len(_family(civic.pid)) >= 4):
            seen.update({p.pid: p for p in _family(civic.pid)})
            assert civic.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the UI did not start in time"
            time.sleep(1)
        seen.update({p.pid: p for p in _family(civic.pid)})
        assert len(seen) >= 3  # civic, dagster dev and at least a code server
        civic.send_signal(sig)
        assert civic.wait(timeout=120) == 0
        assert _alive(list(seen.values())) == []
    finally:
        if civic.poll() is None:
            os.killpg(civic.pid, signal.SIGKILL)
        for p in seen.values():
            if p.is_running():
                p.kill()
    text = log.read_text()
    assert "superseded" not in text and "in the current folder" not in text, text
    assert "Traceback" not in text, text
