"""A refresh's failure summary reads as `civic ingest` does for the project's own errors
(the message alone) and keeps the class of an unexpected error (issue 18)."""

from __future__ import annotations

import dagster as dg

from contracts.errors import ContractError
from lake.shrink_guard import ShrinkRefused
from orchestration.cli.refresh import RefreshOutcome, _collect

SHRINK = "raw.ledger_entries FY2024 would shrink from 40 rows to 0; pass --allow-shrink if that is meant"


@dg.op
def refused_load():
    try:
        raise ShrinkRefused(SHRINK)
    except ShrinkRefused as err:  # as the raw asset does (data_failure)
        raise dg.Failure(description=str(err), allow_retries=False) from err


@dg.op
def bad_contract():
    raise ContractError("column 'amount' is String and none of its 3 values can be read as Float64")


@dg.op
def a_bug():
    return {}["missing"]


@dg.job
def failing():
    refused_load()
    bad_contract()
    a_bug()


def test_failure_lines_show_the_message_of_the_projects_errors_and_the_class_of_a_bug():
    result = failing.execute_in_process(raise_on_error=False)
    outcome = RefreshOutcome(years=[2024], run_ids=[], success=True, failures=[], retried_steps=[])
    _collect(result, outcome)
    assert not outcome.success
    lines = sorted(outcome.failures)
    assert lines == [
        "a_bug: KeyError: 'missing'",
        "bad_contract: column 'amount' is String and none of its 3 values can be read as Float64",
        f"refused_load: {SHRINK}",
    ]
    assert not any("ShrinkRefused" in line or "contracts.errors" in line for line in lines)
