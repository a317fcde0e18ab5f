"""The marts, once dbt has built them in DuckDB, published to Iceberg `marts` per fiscal year
and as the marts-only DuckDB file readers open (lake/marts_file.py).

This asset runs only after every dbt model and test of the build passed; the new marts
file is written first and swapped in only once Iceberg has the same marts, so the two
copies readers see change together."""

import dagster as dg

from contracts.fiscal_year import FiscalCalendar
from lake.load_ledger import code_version
from lake.locks import catalog_write_lock, marts_lock
from lake.marts_file import swap_in, write_marts_file
from lake.marts_publish import publish_marts
from orchestration.defs.owners import owners_of
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
        owners=owners_of("marts"),
        kinds={"iceberg"},
        pool="marts_duckdb",
        retry_policy=dg.RetryPolicy(max_retries=3, delay=2, backoff=dg.Backoff.EXPONENTIAL),
        description=(
            "Every mart of the DuckDB build, replaced per fiscal year in the Iceberg namespace `marts`, "
            "and the marts-only DuckDB file readers open, swapped in atomically."
        ),
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
            staged = write_marts_file(settings.duckdb_path, settings.marts_path)
            try:
                published = publish_marts(lakehouse.catalog(), settings.duckdb_path, years, props)
            except BaseException:
                staged.unlink(missing_ok=True)
                raise
            swap_in(staged, settings.marts_path)
        progress(f"  published {len(published)} mart(s) to Iceberg and {settings.marts_path.name}", done=True)
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": dg.MetadataValue.int(sum(published.values())),
                **{f"rows.{k}": dg.MetadataValue.int(v) for k, v in published.items()},
            }
        )

    return marts_in_iceberg
