"""Each fiscal year of a ranged run gets its own materialization metadata and check results.

A refresh of FY2021..FY2025 is one run whose steps cover the whole range (single-run
backfill policy). Left to itself, Dagster then records the step's metadata on every
partition's materialization (FY2021's page showed the five years' total) and one check
result without a partition. Here each year's counts go in as partition-scoped metadata
(`add_asset_metadata(partition_key=...)`, merged over the step's metadata on that
partition's materialization), and each check is one evaluation per partition.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg
from dagster._core.definitions.asset_checks.asset_check_evaluation import (
    AssetCheckEvaluationTargetMaterializationData,
)


def add_partition_metadata(
    context: dg.AssetExecutionContext, asset_key: dg.AssetKey, per_partition: Mapping[str, Mapping[str, Any]]
) -> None:
    """Metadata of each partition's own materialization (it wins over the step's)."""
    for key, metadata in per_partition.items():
        context.add_asset_metadata(dict(metadata), asset_key=asset_key, partition_key=key)


def _check_output_name(context: dg.AssetExecutionContext, check_key: dg.AssetCheckKey) -> str:
    for name, spec in context.assets_def.check_specs_by_output_name.items():
        if spec.key == check_key:
            return name
    raise KeyError(f"no check {check_key.to_user_string()} on {context.assets_def.keys}")


def _target(
    context: dg.AssetExecutionContext, asset_key: dg.AssetKey, partition: str
) -> AssetCheckEvaluationTargetMaterializationData | None:
    """The partition's newest materialization (what AssetCheckResult looks up for one partition)."""
    records = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=asset_key, asset_partitions=[partition]), limit=1
    ).records
    if not records:
        return None
    mat = records[0]
    return AssetCheckEvaluationTargetMaterializationData(
        run_id=mat.event_log_entry.run_id, storage_id=mat.storage_id, timestamp=mat.timestamp
    )


def partition_check_results(
    context: dg.AssetExecutionContext,
    asset_key: dg.AssetKey,
    check_name: str,
    per_partition: Mapping[str, tuple[bool, Mapping[str, Any]]],
) -> Iterator[dg.Output | dg.AssetCheckEvaluation]:
    """One evaluation per partition of the check `check_name` (yield after the asset's
    MaterializeResult, so each points at its partition's new materialization). A blocking
    check that fails for any partition fails the step, as an AssetCheckResult would."""
    check_key = dg.AssetCheckKey(asset_key, check_name)
    if check_key not in context.selected_asset_check_keys:
        return
    spec = context.assets_def.get_spec_for_check_key(check_key)
    yield dg.Output(None, output_name=_check_output_name(context, check_key))
    for partition, (passed, metadata) in per_partition.items():
        yield dg.AssetCheckEvaluation(
            asset_key=asset_key,
            check_name=check_name,
            passed=passed,
            metadata=dict(metadata),
            target_materialization_data=_target(context, asset_key, partition),
            blocking=spec.blocking,
            partition=partition,
        )
