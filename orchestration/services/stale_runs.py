"""Dead runs of this Dagster instance found and cleaned up, so a crash never needs a person.

A refresh killed with SIGKILL (or an OOM kill, a power cut) cannot tell Dagster it ended:
its run stays STARTED, and the pool slot it held (`marts_duckdb`, one at a time) stays
claimed, so every later refresh waits for it forever. Each refresh therefore starts by
looking for such runs (architecture.md, "Crashes and stops"). The rule:

- A run is *dead* when its process is known and gone: the run names its host and process
  (the `civic/host`, `civic/pid` tags of `civic refresh`; for runs the UI launched, the
  pid of Dagster's own "process" engine event, on an instance whose storage is local,
  i.e. SQLite), that host is this one, and no process with that pid has lived since
  before the run started (a pid reused by a newer process does not count as alive).
- A run of another host is dead when its heartbeat (the `civic/heartbeat` tag, renewed
  every HEARTBEAT_SECONDS while it runs) is older than the bound `CIVIC_RUN_STALE_SECONDS`.
- Anything else (a UI run on a shared PostgreSQL instance) is left to Dagster's run
  monitoring (dagster.yaml: `run_monitoring`).

A dead run is marked failed (canceled, if it was being canceled) and its pool slots are
freed; slots still held by a run that has already ended are freed too. Locks need nothing:
they are `flock` locks (lake/locks.py), which the kernel releases when a process dies.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import dagster as dg
import psutil

HOST_TAG = "civic/host"
PID_TAG = "civic/pid"
HEARTBEAT_TAG = "civic/heartbeat"
HEARTBEAT_SECONDS = 30
DEFAULT_STALE_SECONDS = 300  # a heartbeat older than 10 missed beats: its refresh is gone

IN_FLIGHT = [dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]


def this_host() -> str:
    return socket.gethostname()


def run_tags() -> dict[str, str]:
    """The tags by which a later refresh can tell whether this process's run is alive."""
    return {HOST_TAG: this_host(), PID_TAG: str(os.getpid()), HEARTBEAT_TAG: str(int(time.time()))}


def process_alive(pid: int, since: float | None) -> bool:
    """Whether process `pid` exists, is not a zombie, and started before `since` (+1 s)."""
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        return since is None or proc.create_time() <= since + 1.0
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False


def dead_reason(
    tags: Mapping[str, str],
    started_at: float | None,
    event_pid: int | None,
    *,
    host: str,
    now: float,
    stale_after: float,
    local_storage: bool,
    alive: Callable[[int, float | None], bool] = process_alive,
) -> str | None:
    """Why a run in flight is dead, or None when it may be alive (the rule above)."""
    run_host = tags.get(HOST_TAG) or (host if local_storage and event_pid else None)
    pid = int(tags[PID_TAG]) if tags.get(PID_TAG, "").isdigit() else event_pid
    if run_host == host and pid:
        return None if alive(pid, started_at) else f"its process {pid} on {host} is gone"
    beat = tags.get(HEARTBEAT_TAG, "")
    if beat.isdigit() and now - int(beat) > stale_after:
        return f"no heartbeat from {run_host or 'its host'} for {now - int(beat):.0f} s (bound {stale_after:.0f} s)"
    return None


def _event_pid(instance: dg.DagsterInstance, run_id: str) -> int | None:
    """The pid Dagster itself recorded for a run ("Started process for run", "Executing
    steps in process")."""
    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ENGINE_EVENT, limit=20).records
    for record in records:
        event = record.event_log_entry.dagster_event
        data = event.engine_event_data if event else None
        value = data.metadata.get("pid") if data else None
        text = str(getattr(value, "value", value) or "")
        if text.isdigit():
            return int(text)
    return None


def storage_is_local(instance: dg.DagsterInstance) -> bool:
    """Whether the run storage lives on this machine (SQLite files, or in memory), so a run
    without a host tag (one the UI launched) ran here."""
    storage = instance.run_storage
    inner = getattr(storage, "_storage", storage)  # a LegacyRunStorage wraps the real one
    return any(word in type(s).__module__ for s in (storage, inner) for word in ("sqlite", "in_memory"))


@dataclass
class Cleaned:
    run_id: str
    reason: str
    action: str

    def line(self) -> str:
        return f"recovered run {self.run_id[:8]}: {self.reason}; {self.action}"


def recover_dead_runs(
    instance: dg.DagsterInstance, stale_after: float = DEFAULT_STALE_SECONDS, now: float | None = None
) -> list[Cleaned]:
    """Mark the dead runs of `instance` failed and free their slots (and the slots of runs
    that ended without freeing theirs); returns what was cleaned."""
    now = time.time() if now is None else now
    local = storage_is_local(instance)
    host = this_host()
    events = instance.event_log_storage
    slots = events.supports_global_concurrency_limits
    cleaned: list[Cleaned] = []
    for record in instance.get_run_records(filters=dg.RunsFilter(statuses=IN_FLIGHT)):
        run = record.dagster_run
        reason = dead_reason(
            run.tags,
            record.start_time or record.create_timestamp.timestamp(),
            _event_pid(instance, run.run_id),
            host=host,
            now=now,
            stale_after=stale_after,
            local_storage=local,
        )
        if reason is None:
            continue
        fresh = instance.get_run_by_id(run.run_id)
        if fresh is None or fresh.is_finished:  # it ended meanwhile
            continue
        message = f"Marked failed by the next refresh: {reason}."
        if fresh.status == dg.DagsterRunStatus.CANCELING:
            instance.report_run_canceled(fresh, message)
        else:
            instance.report_run_failed(fresh, message)
        if slots:
            events.free_concurrency_slots_for_run(run.run_id)
        status = "canceled" if fresh.status == dg.DagsterRunStatus.CANCELING else "failed"
        cleaned.append(Cleaned(run.run_id, reason, f"marked {status}" + (", its pool slots freed" if slots else "")))
    if slots:  # slots held by runs that have ended (or that no longer exist)
        for run_id in events.get_concurrency_run_ids() - {c.run_id for c in cleaned}:
            held_by = instance.get_run_by_id(run_id)
            if held_by is None or held_by.is_finished:
                events.free_concurrency_slots_for_run(run_id)
                cleaned.append(Cleaned(run_id, "it ended without freeing its pool slots", "slots freed"))
    return cleaned
