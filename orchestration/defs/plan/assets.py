"""reference/plan_scenarios: plans/scenarios.yml, validated, landed as reference.plan_scenarios.

The dbt source `reference.plan_scenarios` (models/lake_tables.yml) maps onto this asset's key,
so every dbt model that reads it (int_plan_scenarios, hence marts.budget_plan) runs after
it. Partitioned like the rest of the refresh so it joins the same runs; the table has no
fiscal year and is replaced as a whole whatever the partitions.
"""

import dagster as dg

from contracts.fiscal_year import FiscalCalendar
from lake.load_ledger import code_version
from lake.locks import catalog_write_lock
from lake.plan_scenarios import ScenarioError, land_plan_scenarios, read_scenarios, scenarios_file
from orchestration.defs.owners import owners_of
from orchestration.defs.partitions import fiscal_years_of_keys
from orchestration.defs.resources import LakehouseResource
from orchestration.progress import progress

PLAN_SCENARIOS_KEY = dg.AssetKey(["reference", "plan_scenarios"])


def build_plan_scenarios_asset(
    partitions_def: dg.PartitionsDefinition, calendar: FiscalCalendar
) -> dg.AssetsDefinition:
    @dg.asset(
        key=PLAN_SCENARIOS_KEY,
        partitions_def=partitions_def,
        backfill_policy=dg.BackfillPolicy.single_run(),
        group_name="reference",
        owners=owners_of("reference"),
        kinds={"iceberg"},
        retry_policy=dg.RetryPolicy(max_retries=3, delay=2, backoff=dg.Backoff.EXPONENTIAL),
        description="The budget plan scenarios of plans/scenarios.yml ($CIVIC_PLAN_SCENARIOS), validated by "
        "lake.plan_scenarios and landed as the Iceberg table reference.plan_scenarios, replaced as a whole.",
    )
    def plan_scenarios(context: dg.AssetExecutionContext, lakehouse: LakehouseResource):
        settings = lakehouse.settings()
        path = scenarios_file()
        try:
            rows = read_scenarios(path)
        except ScenarioError as err:  # a mistake in the file: retrying cannot fix it
            raise dg.Failure(description=str(err), allow_retries=False) from err
        years = fiscal_years_of_keys(context.partition_keys, calendar)
        props = {
            "civic.run-id": context.run.run_id,
            "civic.fiscal-years": ",".join(map(str, years)),
            "civic.code-version": code_version(),
            "civic.source": str(path),
        }
        with catalog_write_lock(settings, progress):
            snapshot = land_plan_scenarios(lakehouse.catalog(), rows, props)
        progress(f"  landed {len(rows)} plan scenario(s) of {path}", done=True)
        return dg.MaterializeResult(
            metadata={
                "scenarios": dg.MetadataValue.int(len(rows)),
                "scenarios_version": rows[0]["scenarios_version"],
                "scenarios_sha256": rows[0]["scenarios_sha256"],
                "snapshot_id": dg.MetadataValue.text(str(snapshot or "")),  # 64-bit: text, never rounded
                "path": str(path),
            }
        )

    return plan_scenarios


def plan_rebuild_selection() -> dg.AssetSelection:
    """What `civic plan --rebuild` runs after a change of plans/scenarios.yml: the scenarios,
    every asset downstream of them (the plan's models, their publication, the site) and
    the intermediate models those read (an intermediate table holds only the years of
    the build that made it: orchestration/defs/dbt/selection.py). No raw table is loaded."""
    downstream = dg.AssetSelection.assets(PLAN_SCENARIOS_KEY).downstream()
    return downstream | (downstream.upstream() & dg.AssetSelection.groups("intermediate"))
