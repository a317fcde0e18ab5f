"""The marts, once dbt has built them in DuckDB, published to Iceberg `marts` per fiscal year
and as the marts-only DuckDB file readers open (lake/marts_file.py).

One asset per mart (`iceberg/marts/<mart>`, on its dbt model), all computed by one step:
the step runs only after every dbt model and test of the build passed; the new marts file
is written first and swapped in only once Iceberg has the same marts, so the two copies
readers see change together. Each mart's materialization of a fiscal year carries that
year's rows and the snapshot of its commit (text: a 64-bit id read as a JSON number is
rounded by the browser)."""

import dagster as dg

from contracts.fiscal_year import FiscalCalendar
from lake.load_ledger import code_version
from lake.locks import catalog_write_lock, marts_lock
from lake.marts_file import swap_in, write_marts_file
from lake.marts_publish import MartPublication, publish_marts
from orchestration.defs.owners import owners_of
from orchestration.defs.partition_events import add_partition_metadata
from orchestration.defs.partitions import fiscal_years_of_keys
from orchestration.defs.resources import LakehouseResource
from orchestration.progress import progress


def iceberg_mart_key(mart_key: dg.AssetKey) -> dg.AssetKey:
    """`marts/<mart>` (the dbt model) -> `iceberg/marts/<mart>` (its Iceberg publication)."""
    return dg.AssetKey(["iceberg", *mart_key.path])


def _text_id(snapshot_id: int | None) -> dg.MetadataValue:
    return dg.MetadataValue.text("" if snapshot_id is None else str(snapshot_id))


def mart_metadata(pub: MartPublication, properties: dict[str, str]) -> dict[str, dg.MetadataValue]:
    """The whole publication of one mart (what every partition of the run shares)."""
    return {
        "dagster/row_count": dg.MetadataValue.int(pub.rows),
        "snapshot_id": _text_id(pub.snapshot_id),
        **{k: dg.MetadataValue.text(v) for k, v in properties.items()},
    }


def year_metadata(pub: MartPublication, fy: int) -> dict[str, dg.MetadataValue]:
    """One fiscal year's commit of a mart published per fiscal year."""
    return {
        "dagster/row_count": dg.MetadataValue.int(pub.rows_by_year.get(fy, 0)),
        "snapshot_id": _text_id(pub.snapshot_by_year.get(fy)),
        "civic.fiscal-years": dg.MetadataValue.text(str(fy)),
    }


def build_publish_assets(
    mart_keys: list[dg.AssetKey], partitions_def: dg.PartitionsDefinition, calendar: FiscalCalendar
) -> dg.AssetsDefinition:
    specs = [
        dg.AssetSpec(
            iceberg_mart_key(k),
            deps=[k],
            group_name="marts",
            owners=owners_of("marts"),
            kinds={"iceberg"},
            partitions_def=partitions_def,
            skippable=True,
            description=f"The mart `{k.path[-1]}` of the DuckDB build, replaced per fiscal year in the Iceberg "
            "namespace `marts` (a plan mart: its plan years; a mart without years: whole). Published with every "
            "other mart of the build and the marts-only DuckDB file, or not at all.",
        )
        for k in mart_keys
    ]

    @dg.multi_asset(
        name="marts_in_iceberg",
        specs=specs,
        can_subset=True,
        partitions_def=partitions_def,
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool="marts_duckdb",
        retry_policy=dg.RetryPolicy(max_retries=3, delay=2, backoff=dg.Backoff.EXPONENTIAL),
    )
    def marts_in_iceberg(context: dg.AssetExecutionContext, lakehouse: LakehouseResource):
        settings = lakehouse.settings()
        years = fiscal_years_of_keys(context.partition_keys, calendar)
        selected = {key.path[-1]: key for key in context.selected_asset_keys}
        props = {
            "civic.run-id": context.run.run_id,
            "civic.fiscal-years": ",".join(map(str, years)),
            "civic.code-version": code_version(),
        }
        with marts_lock(settings, progress), catalog_write_lock(settings, progress):
            staged = write_marts_file(settings.duckdb_path, settings.marts_path)
            try:
                published = publish_marts(lakehouse.catalog(), settings.duckdb_path, years, props, only=set(selected))
                if missing := sorted(set(selected) - set(published)):
                    raise dg.Failure(
                        f"no table marts.{', marts.'.join(missing)} in the DuckDB build", allow_retries=False
                    )
            except BaseException:
                staged.unlink(missing_ok=True)
                raise
            swap_in(staged, settings.marts_path)
        progress(f"  published {len(published)} mart(s) to Iceberg and {settings.marts_path.name}", done=True)
        for name, key in sorted(selected.items()):
            pub = published[name]
            if pub.rows_by_year.keys() & set(years):  # per fiscal year: each year's own commit
                add_partition_metadata(context, key, {calendar.key_of(fy): year_metadata(pub, fy) for fy in years})
            yield dg.MaterializeResult(asset_key=key, metadata=mart_metadata(pub, props))

    return marts_in_iceberg
