"""The marts, once dbt has built them in DuckDB, published to Iceberg `marts` per fiscal year."""

import dagster as dg

from contracts.fiscal_year import FiscalCalendar
from lake.load_ledger import code_version
from lake.locks import catalog_write_lock, marts_lock
from lake.marts_publish import publish_marts
from orchestration.defs.partitions import fiscal_years_of_keys
from orchestration.defs.resources import LakehouseResource
from orchestration.progress import progress

MARTS_ICEBERG_KEY = dg.AssetKey(["iceberg", "marts"])


def build_publish_asset(
    mart_keys: list[dg.AssetKey], partitions_def: dg.PartitionsDefinition, calendar: FiscalCalendar
) -> dg.AssetsDefinition:
    @dg.asset(
        key=MARTS_ICEBERG_KEY,
        deps=mart_keys,
        partitions_def=partitions_def,
        backfill_policy=dg.BackfillPolicy.single_run(),
        group_name="marts",
        kinds={"iceberg"},
        pool="marts_duckdb",
        retry_policy=dg.RetryPolicy(max_retries=3, delay=2, backoff=dg.Backoff.EXPONENTIAL),
        description="Every mart of the DuckDB file, replaced per fiscal year in the Iceberg namespace `marts`.",
    )
    def marts_in_iceberg(context: dg.AssetExecutionContext, lakehouse: LakehouseResource):
        settings = lakehouse.settings()
        years = fiscal_years_of_keys(context.partition_keys, calendar)
        props = {
            "civic.run-id": context.run.run_id,
            "civic.fiscal-years": ",".join(map(str, years)),
            "civic.code-version": code_version(),
        }
        with marts_lock(settings, progress), catalog_write_lock(settings, progress):
            published = publish_marts(lakehouse.catalog(), settings.duckdb_path, years, props)
        progress(f"  published {len(published)} mart(s) to Iceberg")
        return dg.MaterializeResult(metadata={f"rows.{k}": dg.MetadataValue.int(v) for k, v in published.items()})

    return marts_in_iceberg
