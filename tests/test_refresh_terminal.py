"""`civic refresh` on a terminal (issue 17): the steps as lines above a rich progress bar
that keeps moving while Dagster captures the steps' output, and dbt's and Dagster's own
lines in the run's log file, not on the terminal."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import TEST_PSEUDONYM_KEY

REPO = Path(__file__).resolve().parents[1]


def _read_all(master: int, proc: subprocess.Popen, timeout: float) -> bytes:
    shown, deadline = b"", time.monotonic() + timeout
    while time.monotonic() < deadline:
        if select.select([master], [], [], 1.0)[0]:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the terminal closed: the command ended
                break
            shown += chunk
        elif proc.poll() is not None:
            break
    return shown


def test_a_refresh_on_a_terminal_shows_a_bar_and_keeps_dbt_in_its_log(tmp_path):
    home = tmp_path / "civic"
    env = {**os.environ, "CIVIC_HOME": str(home), "CIVIC_PSEUDONYM_KEY": TEST_PSEUDONYM_KEY, "TERM": "xterm"}
    env.pop("DAGSTER_HOME", None)
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [str(Path(sys.executable).with_name("civic")), "refresh", "--years", "2030"],
        cwd=tmp_path,
        env=env,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        start_new_session=True,
    )
    os.close(slave)
    try:
        shown = _read_all(master, proc, timeout=600)
        assert proc.wait(timeout=60) == 0, shown.decode(errors="replace")[-3000:]
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", shown.decode(errors="replace")).replace("\r", "\n")
    lines = [line.strip() for line in text.splitlines()]
    steps = [line for line in lines if re.match(r"\[\s*\d+/\d+\s+[\d.]+s\]", line)]
    assert any("dbt build for FY2030" in line for line in steps)
    assert any("dbt build done for FY2030" in line for line in steps)
    bars = [line for line in lines if "━" in line]
    assert any(re.search(r"dbt build: \d+ results", line) for line in bars)  # moved during dbt
    assert any(re.search(r"(\d+)/\1 \d+:\d\d:\d\d$", line) for line in bars)  # n of N, finished
    assert "Refresh done" in text and "Traceback" not in text
    assert not re.search(r"\d+ of \d+ START", text)
    [log] = (home / "logs").glob("annual_refresh-*.log")
    assert re.search(r"\d+ of \d+ START sql", log.read_text())  # dbt's lines are in the log
    assert str(log) in text  # and the command says where
