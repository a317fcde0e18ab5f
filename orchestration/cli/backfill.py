"""`civic refresh --years A:B` as a Dagster backfill, though its runs execute in this process.

The backfills page lists only backfills, so a refresh of several years adds one to the
instance: it targets the years' partitions of the assets it selects, its runs carry the
`dagster/backfill` tag, and at the end it is marked completed (every targeted partition
materialized) or completed with failures (which ones). It is added with every partition
already requested: a daemon running beside it (`civic ui`) then launches nothing of its
own for it and only follows the runs this process tagged.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence

import dagster as dg
from dagster._core.definitions.assets.graph.asset_graph_subset import AssetGraphSubset
from dagster._core.definitions.events import AssetKeyPartitionKey
from dagster._core.execution.backfill import BulkActionStatus, PartitionBackfill
from dagster._core.utils import make_new_backfill_id

BACKFILL_TAG = "dagster/backfill"


def start_backfill(
    instance: dg.DagsterInstance,
    asset_graph,
    asset_keys: Sequence[dg.AssetKey],
    partition_keys: Sequence[str],
    title: str,
) -> PartitionBackfill:
    """Add a backfill of `partition_keys` of `asset_keys`, every partition already requested."""
    backfill = PartitionBackfill.from_asset_partitions(
        backfill_id=make_new_backfill_id(),
        asset_graph=asset_graph,
        partition_names=list(partition_keys),
        asset_selection=list(asset_keys),
        backfill_timestamp=time.time(),
        tags={},
        dynamic_partitions_store=instance,
        all_partitions=False,
        title=title,
        description="Run by `civic refresh` in its own process (no daemon launches runs for it).",
        run_config=None,
    )
    data = backfill.asset_backfill_data
    assert data is not None
    data = data._replace(requested_subset=data.target_subset, requested_runs_for_target_roots=True)
    backfill = backfill.with_asset_backfill_data(data, instance, asset_graph)
    instance.add_backfill(backfill)
    return backfill


def finish_backfill(
    instance: dg.DagsterInstance,
    backfill_id: str,
    asset_graph,
    materialized: Iterable[tuple[dg.AssetKey, str | None]],
) -> PartitionBackfill:
    """Mark the backfill done: what its runs materialized, the rest of its target failed."""
    backfill = instance.get_backfill(backfill_id)
    assert backfill is not None and backfill.asset_backfill_data is not None
    data = backfill.asset_backfill_data
    done = (
        AssetGraphSubset.from_asset_partition_set({AssetKeyPartitionKey(k, p) for k, p in materialized}, asset_graph)
        & data.target_subset
    )
    failed = data.target_subset - done
    data = data._replace(materialized_subset=done, failed_and_downstream_subset=failed)
    status = BulkActionStatus.COMPLETED_FAILED if not failed.is_empty else BulkActionStatus.COMPLETED_SUCCESS
    backfill = (
        backfill.with_asset_backfill_data(data, instance, asset_graph)
        .with_status(status)
        .with_end_timestamp(time.time())
    )
    instance.update_backfill(backfill)
    return backfill


def materialized_partitions(result: dg.ExecuteInProcessResult) -> list[tuple[dg.AssetKey, str | None]]:
    """(asset key, partition) of every materialization of a run."""
    return [(e.asset_key, e.partition) for e in result.get_asset_materialization_events() if e.asset_key]
