"""Run the annual refresh for some fiscal years through Dagster, in this process."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field

import dagster as dg

from contracts.fiscal_year import check_years
from orchestration.progress import progress
from orchestration.services.stale_runs import recover_dead_runs, run_tags


def recover(instance: dg.DagsterInstance, stale_after: float) -> list[str]:
    """Mark the dead runs of earlier refreshes failed and free their pool slots, and say so."""
    lines = [c.line() for c in recover_dead_runs(instance, stale_after)]
    for line in lines:
        progress(f"  {line}")
    return lines


@dataclass
class RefreshOutcome:
    years: list[int]
    run_ids: list[str]
    success: bool
    failures: list[str]
    retried_steps: list[str]
    # dead runs of earlier refreshes this one cleaned up before it started (stale_runs.py)
    recovered: list[str] = field(default_factory=list)
    # the Dagster backfill a refresh of several years is recorded as (backfill.py)
    backfill_id: str | None = None


def _contiguous_runs(years: list[int]) -> list[list[int]]:
    runs: list[list[int]] = []
    for y in sorted(set(years)):
        if runs and runs[-1][-1] == y - 1:
            runs[-1].append(y)
        else:
            runs.append([y])
    return runs


def expected_steps(years: list[int], serving: bool, raw: bool = True) -> int:
    """The steps a refresh of `years` reports done (orchestration.progress): each raw table
    per fiscal year (none for a plan rebuild), and per Dagster run the plan, the dbt
    build, the publication, the site and the serving database when one is set. Feeds add
    loads of their own."""
    from contracts.entities import ENTITIES

    per_run = 4 + int(serving)
    return len(ENTITIES) * len(set(years)) * int(raw) + per_run * len(_contiguous_runs(years))


def run_refresh(
    years: list[int],
    instance: dg.DagsterInstance | None = None,
    job_name: str = "annual_refresh",
    rebuild_only: bool = False,
) -> RefreshOutcome:
    """One Dagster run per contiguous range of fiscal years (dbt runs once per range), after
    cleaning up the dead runs of earlier refreshes; a stop signal cancels the run in
    progress (run_guard.py). `rebuild_only`: every asset but the raw loads (the marts
    rebuilt from the raw tables as they are, after an erasure)."""
    from lake.locks import exclusive
    from orchestration.cli.run_guard import RunGuard

    progress("  loading the pipeline's definitions (Dagster, dbt manifest)")
    from orchestration.definitions import calendar, defs, settings

    check_years(years, settings.fiscal_years)  # the CLI checks first, before importing Dagster's definitions
    # Two processes starting at once on a fresh PostgreSQL storage would both create its
    # schema; the first to take the lock creates it, the other finds it. The same lock
    # keeps two refreshes from cleaning up the same dead run at once.
    with exclusive(settings.home / "locks" / "dagster-instance.lock", "the Dagster instance"):
        if instance is None:
            instance = dg.DagsterInstance.get()
            instance.get_runs_count()  # touches (and so creates) the run storage
        recovered = recover(instance, settings.run_stale_seconds)
    progress("  starting the Dagster run")
    job = defs.resolve_job_def(job_name)
    graph = defs.resolve_asset_graph()
    selection = None
    if rebuild_only:
        selection = [k for k in graph.get_all_asset_keys() if k.path[0] != "raw" and graph.get(k).is_materializable]
    outcome = RefreshOutcome(
        years=sorted(set(years)), run_ids=[], success=True, failures=[], retried_steps=[], recovered=recovered
    )
    backfill_tags: dict[str, str] = {}
    materialized: list = []
    if len(outcome.years) > 1:  # a range of years is a backfill on the backfills page
        from orchestration.cli.backfill import BACKFILL_TAG, start_backfill

        keys = selection or [k for k in job.asset_layer.selected_asset_keys if graph.get(k).is_materializable]
        span = f"FY{outcome.years[0]}..FY{outcome.years[-1]}"
        backfill = start_backfill(
            instance, graph, keys, [calendar.key_of(y) for y in outcome.years], f"civic refresh {span} ({job_name})"
        )
        outcome.backfill_id = backfill.backfill_id
        backfill_tags = {BACKFILL_TAG: backfill.backfill_id}
    quiet = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}
    try:
        with RunGuard(instance) as guard:
            for run in _contiguous_runs(years):
                first, last = calendar.key_of(run[0]), calendar.key_of(run[-1])
                guard.run_id = str(uuid.uuid4())  # known before the run starts, for the guard
                tags = run_tags() | backfill_tags
                if first != last:
                    tags |= {"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last}
                result = job.execute_in_process(
                    instance=instance,
                    partition_key=first if first == last else None,
                    run_config=quiet,
                    raise_on_error=False,
                    run_id=guard.run_id,
                    tags=tags,
                    asset_selection=selection,
                )
                guard.run_id = None
                outcome.run_ids.append(result.run_id)
                _collect(result, outcome)
                if outcome.backfill_id:
                    from orchestration.cli.backfill import materialized_partitions

                    materialized += materialized_partitions(result)
    finally:
        if outcome.backfill_id:  # also when stopped: what was not materialized is marked failed
            from orchestration.cli.backfill import finish_backfill

            finish_backfill(instance, outcome.backfill_id, graph, materialized)
    return outcome


def _collect(result: dg.ExecuteInProcessResult, outcome: RefreshOutcome) -> None:
    outcome.retried_steps += [
        e.step_key for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY" and e.step_key
    ]
    if not result.success:
        outcome.success = False
        for event in result.all_events:
            if event.is_step_failure or event.event_type_value == "RUN_FAILURE":
                message = failure_message(event.event_specific_data) or event.message or "failed"
                outcome.failures.append(f"{event.step_key or 'run'}: {message}")


# "lake.shrink_guard.ShrinkRefused: ..." names an error the project raises on purpose
_OWN_ERROR = re.compile(r"^(?:contracts|ingestion|lake|orchestration|report)\.[\w.]+:\s*")


def failure_message(data: object) -> str | None:
    """What a failed step says to a user, as `civic ingest` says it: the message of a
    `dg.Failure` the project raised, or of the project's own error at the root of the
    chain, alone; an unexpected error keeps its class (`KeyError: 'x'`), which a
    developer needs."""
    failure = getattr(data, "user_failure_data", None)
    if failure is not None and failure.description:
        return failure.description.strip()
    err = getattr(data, "error", None)
    if err is None:
        return None
    while err.cause is not None:
        err = err.cause  # the root cause is what a user can act on
    return _OWN_ERROR.sub("", err.message.strip(), count=1)
