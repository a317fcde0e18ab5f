"""A tiny job run the way `civic refresh` runs the annual refresh (in process, tagged with
its host and pid, under the RunGuard), for the tests of dead-run recovery and stop signals.
Its one op takes a slot of the pool `marts_duckdb` and holds it; like the raw assets it has
a retry policy (under which Dagster retries an interrupted step).

    python tests/crash_victim.py DAGSTER_HOME SECONDS
"""

import sys
import time
import uuid

import dagster as dg

from orchestration.cli.run_guard import RunGuard
from orchestration.services.stale_runs import run_tags


@dg.op(pool="marts_duckdb", retry_policy=dg.RetryPolicy(max_retries=3, delay=1))
def hold_the_pool(context: dg.OpExecutionContext) -> None:
    print(f"holding the pool in run {context.run_id}", flush=True)
    time.sleep(float(sys.argv[2]))


@dg.job
def victim() -> None:
    hold_the_pool()


if __name__ == "__main__":
    with dg.DagsterInstance.from_config(sys.argv[1]) as instance, RunGuard(instance, heartbeat_seconds=1) as guard:
        guard.run_id = str(uuid.uuid4())
        result = victim.execute_in_process(
            instance=instance, run_id=guard.run_id, tags=run_tags(), raise_on_error=False
        )
        print("success" if result.success else "failure", flush=True)
