"""Run the annual refresh for some fiscal years through Dagster, in this process."""

from __future__ import annotations

from dataclasses import dataclass

import dagster as dg

from contracts.fiscal_year import check_years


@dataclass
class RefreshOutcome:
    years: list[int]
    run_ids: list[str]
    success: bool
    failures: list[str]
    retried_steps: list[str]


def _contiguous_runs(years: list[int]) -> list[list[int]]:
    runs: list[list[int]] = []
    for y in sorted(set(years)):
        if runs and runs[-1][-1] == y - 1:
            runs[-1].append(y)
        else:
            runs.append([y])
    return runs


def run_refresh(years: list[int], instance: dg.DagsterInstance | None = None) -> RefreshOutcome:
    """One Dagster run per contiguous range of fiscal years (dbt runs once per range)."""
    from orchestration.definitions import calendar, defs, settings

    check_years(years, settings.fiscal_years)  # the CLI checks first, before importing Dagster's definitions
    if instance is None:
        # Two processes starting at once on a fresh PostgreSQL storage would both create
        # its schema; the first to take the lock creates it, the other finds it.
        from lake.locks import exclusive

        with exclusive(settings.home / "locks" / "dagster-instance.lock", "the Dagster instance"):
            instance = dg.DagsterInstance.get()
            instance.get_runs_count()  # touches (and so creates) the run storage
    job = defs.resolve_job_def("annual_refresh")
    outcome = RefreshOutcome(years=sorted(set(years)), run_ids=[], success=True, failures=[], retried_steps=[])
    quiet = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}
    for run in _contiguous_runs(years):
        first, last = calendar.key_of(run[0]), calendar.key_of(run[-1])
        if first == last:
            result = job.execute_in_process(
                instance=instance, partition_key=first, run_config=quiet, raise_on_error=False
            )
        else:
            result = job.execute_in_process(
                instance=instance,
                run_config=quiet,
                raise_on_error=False,
                tags={"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last},
            )
        outcome.run_ids.append(result.run_id)
        outcome.retried_steps += [
            e.step_key for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY" and e.step_key
        ]
        if not result.success:
            outcome.success = False
            for event in result.all_events:
                if event.is_step_failure or event.event_type_value == "RUN_FAILURE":
                    err = getattr(event.event_specific_data, "error", None)
                    while err is not None and err.cause is not None:
                        err = err.cause  # the root cause is what a user can act on
                    message = err.message.strip() if err else (event.message or "failed")
                    outcome.failures.append(f"{event.step_key or 'run'}: {message}")
    return outcome
