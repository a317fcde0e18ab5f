"""The marts, once dbt has built them in DuckDB, published to the serving database
(PostgreSQL, CIVIC_SERVING_URI) per fiscal year, for BI tools."""

import dagster as dg

from contracts.fiscal_year import FiscalCalendar
from lake.locks import marts_lock
from lake.marts_dictionary import read_marts_dictionary
from lake.marts_serving import publish_to_serving
from orchestration.defs.dbt.project import ensure_manifest
from orchestration.defs.owners import owners_of
from orchestration.defs.partitions import fiscal_years_of_keys
from orchestration.defs.resources import LakehouseResource
from orchestration.progress import progress

MARTS_SERVING_KEY = dg.AssetKey(["serving", "marts"])


def build_serving_asset(
    mart_keys: list[dg.AssetKey], partitions_def: dg.PartitionsDefinition, calendar: FiscalCalendar
) -> dg.AssetsDefinition:
    @dg.asset(
        key=MARTS_SERVING_KEY,
        deps=mart_keys,
        partitions_def=partitions_def,
        backfill_policy=dg.BackfillPolicy.single_run(),
        group_name="marts",
        owners=owners_of("marts"),
        kinds={"postgres"},
        pool="marts_duckdb",
        retry_policy=dg.RetryPolicy(max_retries=3, delay=2, backoff=dg.Backoff.EXPONENTIAL),
        description=(
            "Every mart of the DuckDB file, replaced per fiscal year (one transaction each) in schema "
            "`marts` of the serving database BI tools connect to; comments from the dbt docs."
        ),
    )
    def marts_in_serving_database(context: dg.AssetExecutionContext, lakehouse: LakehouseResource):
        settings = lakehouse.settings()
        if not settings.serving_uri:  # the code location was loaded with it; this run's env has none
            raise dg.Failure("CIVIC_SERVING_URI is not set in this run's environment")
        years = fiscal_years_of_keys(context.partition_keys, calendar)
        dictionary = read_marts_dictionary(ensure_manifest())
        with marts_lock(settings, progress):
            published = publish_to_serving(settings.serving_uri, settings.duckdb_path, years, dictionary)
        progress(f"  published {len(published)} mart(s) to the serving database", done=True)
        return dg.MaterializeResult(metadata={f"rows.{k}": dg.MetadataValue.int(v) for k, v in published.items()})

    return marts_in_serving_database
