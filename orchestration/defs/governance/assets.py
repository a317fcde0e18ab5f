"""reference/processing_register and reference/data_use_lineage: the data-use register,
validated against the contracts, and the marts' uses of its personal fields derived from
the dbt lineage (lake.data_use), landed as reference tables that marts.data_use joins.

The dbt sources of models/lake_tables.yml map onto these keys, so int_data_use runs after
them. Partitioned like the rest of the refresh; the tables are replaced whole. The same
step moves the serving database's logged reads (lake.serving_audit) and the access log's
spool into governance.access_log (lake.access_log).
"""

import dagster as dg

from contracts.register import RegisterError, read_register, register_file
from lake.access_log import flush_spool
from lake.data_use import land_data_use
from lake.load_ledger import code_version
from lake.locks import catalog_write_lock
from lake.serving_audit import AuditError, pull_reads
from orchestration.defs.resources import LakehouseResource
from orchestration.progress import progress

REGISTER_KEY = dg.AssetKey(["reference", "processing_register"])
LINEAGE_KEY = dg.AssetKey(["reference", "data_use_lineage"])


def build_data_use_asset(partitions_def: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    @dg.multi_asset(
        specs=[
            dg.AssetSpec(
                REGISTER_KEY,
                group_name="reference",
                kinds={"iceberg"},
                description="The data-use register (governance/processing_register.yml, $CIVIC_REGISTER), "
                "one row per dataset and personal field.",
            ),
            dg.AssetSpec(
                LINEAGE_KEY,
                group_name="reference",
                kinds={"iceberg"},
                description="Which marts use which registered personal fields, from the dbt lineage.",
            ),
        ],
        partitions_def=partitions_def,
        backfill_policy=dg.BackfillPolicy.single_run(),
        retry_policy=dg.RetryPolicy(max_retries=3, delay=2, backoff=dg.Backoff.EXPONENTIAL),
    )
    def data_use(context: dg.AssetExecutionContext, lakehouse: LakehouseResource):
        path = register_file()
        try:
            register = read_register(path)
        except RegisterError as err:  # a mistake in the file: retrying cannot fix it
            raise dg.Failure(description=str(err), allow_retries=False) from err
        props = {"civic.run-id": context.run.run_id, "civic.code-version": code_version(), "civic.source": str(path)}
        settings = lakehouse.settings()
        pulled = 0
        if settings.serving_uri:  # an unreachable serving database leaves its reads for the next time
            try:
                pulled = pull_reads(settings.serving_uri, settings.home)
            except AuditError as err:
                progress(f"  note: {err}")
        with catalog_write_lock(settings, progress):
            registered, uses = land_data_use(lakehouse.catalog(), register, properties=props)
            # and the queries spooled since the last refresh into governance.access_log
            accesses = flush_spool(lakehouse.catalog(), settings.home)
        progress(f"  landed the data-use register ({registered} personal fields) and {uses} mart use(s)")
        if pulled:
            progress(f"  pulled {pulled} logged read(s) of the serving database")
        if accesses:
            progress(f"  moved {accesses} logged quer{'y' if accesses == 1 else 'ies'} into governance.access_log")
        yield dg.MaterializeResult(asset_key=REGISTER_KEY, metadata={"rows": registered, "path": str(path)})
        yield dg.MaterializeResult(asset_key=LINEAGE_KEY, metadata={"rows": uses})

    return data_use
