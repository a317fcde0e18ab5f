"""The code location: `dagster dev -m orchestration.definitions` (or `civic ui`)."""

from __future__ import annotations

import dagster as dg

from lake.settings import load_settings, owner_only
from orchestration.defs.dbt.assets import build_dbt_assets, mart_keys
from orchestration.defs.dbt.project import DBT_EXECUTABLE, civic_dbt
from orchestration.defs.governance.assets import build_data_use_asset
from orchestration.defs.maintenance import build_maintenance_schedule, lake_maintenance
from orchestration.defs.marts.publish import build_publish_assets, iceberg_mart_key
from orchestration.defs.partitions import fiscal_year_partitions
from orchestration.defs.plan.assets import build_plan_scenarios_asset, plan_rebuild_selection
from orchestration.defs.raw.assets import build_raw_assets
from orchestration.defs.report.assets import build_report_asset
from orchestration.defs.resources import CivicDbtCliResource, LakehouseResource
from orchestration.defs.schedules import build_annual_schedule
from orchestration.defs.serving.publish import build_serving_asset

owner_only()  # each Dagster step process (and the dbt it runs) writes state owner-only
settings = load_settings()
calendar = settings.calendar
fiscal_years = fiscal_year_partitions(calendar, settings.fiscal_years)
dbt_models = build_dbt_assets(fiscal_years, calendar)
annual_refresh = dg.define_asset_job(
    "annual_refresh",
    selection=dg.AssetSelection.all(),
    description="Load every raw table of the fiscal year, build the marts, publish them and the scorecard site.",
)
plan_rebuild = dg.define_asset_job(
    "plan_rebuild",
    selection=plan_rebuild_selection(),
    description="After a change of plans/scenarios.yml: land the scenarios, rebuild the plan's dbt models (and the "
    "intermediate models they read) and publish them; no raw table is loaded (`civic plan --rebuild`).",
)
defs = dg.Definitions(
    assets=[
        *build_raw_assets(fiscal_years, calendar),
        build_plan_scenarios_asset(fiscal_years, calendar),
        build_data_use_asset(fiscal_years),
        dbt_models,
        build_publish_assets(mart_keys(dbt_models), fiscal_years, calendar),
        build_report_asset(fiscal_years, [iceberg_mart_key(k) for k in mart_keys(dbt_models)]),
        # the serving database for BI tools, when one is configured (CIVIC_SERVING_URI)
        *([build_serving_asset(mart_keys(dbt_models), fiscal_years, calendar)] if settings.serving_uri else []),
    ],
    jobs=[annual_refresh, plan_rebuild, lake_maintenance],
    schedules=[
        build_annual_schedule(annual_refresh, calendar, settings.fiscal_years),
        build_maintenance_schedule(settings.profile),
    ],
    # One process per run: a step process would re-import the whole stack (~8 s each),
    # far more than the raw loads themselves take.
    executor=dg.in_process_executor,
    resources={
        "lakehouse": LakehouseResource.from_env(),
        "dbt": CivicDbtCliResource(project_dir=civic_dbt, dbt_executable=DBT_EXECUTABLE),
    },
)
