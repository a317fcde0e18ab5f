"""A refresh killed with SIGKILL leaves its run STARTED and its pool slot claimed; the next
refresh finds it dead, marks it failed and frees the slot. A refresh sent SIGTERM ends
within seconds, its run canceled and its slot freed (orchestration/services/stale_runs.py,
orchestration/cli/run_guard.py). Real Dagster instances, real processes, real signals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest

from orchestration.services.instance import instance_yaml
from orchestration.services.stale_runs import (
    HEARTBEAT_TAG,
    HOST_TAG,
    PID_TAG,
    dead_reason,
    process_alive,
    recover_dead_runs,
)

VICTIM = Path(__file__).with_name("crash_victim.py")


def _reason(tags, event_pid=None, local=False, alive=lambda pid, since: False, now=1_000.0):
    return dead_reason(tags, 100.0, event_pid, host="here", now=now, stale_after=300, local_storage=local, alive=alive)


def test_the_rule_for_a_dead_run():
    mine = {HOST_TAG: "here", PID_TAG: "4242", HEARTBEAT_TAG: "990"}
    assert _reason(mine) == "its process 4242 on here is gone"
    assert _reason(mine, alive=lambda pid, since: True) is None
    # another host's run: only its heartbeat tells
    theirs = {HOST_TAG: "there", PID_TAG: "4242", HEARTBEAT_TAG: "900"}
    assert _reason(theirs, now=1_100.0) is None
    assert "no heartbeat from there for 301 s" in _reason(theirs, now=1_201.0)
    # a run the UI launched: the pid of Dagster's own engine event, on a local instance only
    assert _reason({}, event_pid=77, local=True) == "its process 77 on here is gone"
    assert _reason({}, event_pid=77, local=False) is None  # left to Dagster's run monitoring
    assert _reason({}, event_pid=None, local=True) is None  # not started yet


def test_a_reused_pid_is_not_alive():
    started = time.time()
    assert process_alive(os.getpid(), started)
    assert not process_alive(os.getpid(), 0.0)  # this process started after the "run"
    assert not process_alive(2**22 + 12345, None)


def _instance_dir(tmp_path: Path) -> Path:
    home = tmp_path / "dagster"
    home.mkdir()
    # the settings `civic refresh` gives its instance: the repo's, pools included, and its event log
    (home / "dagster.yaml").write_text(instance_yaml("embedded", home))
    return home


def _victim(home: Path, seconds: float) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [sys.executable, str(VICTIM), str(home), str(seconds)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("holding the pool in run "):
            return proc, line.split()[-1]
    raise AssertionError(f"the victim ended with {proc.wait()} before holding the pool")


def _status(home: Path, run_id: str) -> dg.DagsterRunStatus:
    with dg.DagsterInstance.from_config(str(home)) as instance:
        run = instance.get_run_by_id(run_id)
        assert run is not None
        return run.status


def test_a_killed_run_is_marked_failed_and_its_pool_slot_freed(tmp_path):
    home = _instance_dir(tmp_path)
    proc, run_id = _victim(home, 120)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.STARTED  # what a crash leaves
        assert run_id in instance.event_log_storage.get_concurrency_run_ids()  # and the slot claimed
        cleaned = recover_dead_runs(instance)
        assert [(c.run_id, c.reason) for c in cleaned] == [
            (run_id, f"its process {proc.pid} on {os.uname()[1]} is gone")
        ]
        assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.FAILURE
        assert instance.event_log_storage.get_concurrency_run_ids() == set()
        assert recover_dead_runs(instance) == []  # nothing left to clean
    # the pool is free again: the next run takes the slot and finishes
    nxt, next_id = _victim(home, 0)
    assert nxt.wait(timeout=60) == 0
    assert _status(home, next_id) == dg.DagsterRunStatus.SUCCESS


def test_a_live_run_is_left_alone(tmp_path):
    home = _instance_dir(tmp_path)
    proc, run_id = _victim(home, 120)
    try:
        with dg.DagsterInstance.from_config(str(home)) as instance:
            assert recover_dead_runs(instance) == []
            assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.STARTED
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_ends_the_run_within_seconds(tmp_path, sig):
    home = _instance_dir(tmp_path)
    proc, run_id = _victim(home, 120)
    sent = time.monotonic()
    proc.send_signal(sig)
    assert proc.wait(timeout=20) == 128 + sig  # not a retry of the interrupted step
    assert time.monotonic() - sent < 10
    assert _status(home, run_id) == dg.DagsterRunStatus.CANCELED
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert instance.event_log_storage.get_concurrency_run_ids() == set()
