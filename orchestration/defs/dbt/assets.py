"""dbt models as partitioned assets; the partition's fiscal years go in as dbt --vars."""

import json
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, dbt_assets

from contracts.fiscal_year import FiscalCalendar
from lake.locks import marts_lock
from lake.model_counts import TableCount, built_models
from orchestration.defs.dbt.columns import model_column_metadata, relation_keys
from orchestration.defs.dbt.project import civic_dbt, ensure_manifest
from orchestration.defs.dbt.selection import refusal, unbuilt_intermediate_parents
from orchestration.defs.owners import owners_of
from orchestration.defs.partition_events import add_partition_metadata
from orchestration.defs.partitions import dbt_vars, fiscal_years_of_keys
from orchestration.defs.resources import CivicDbtCliResource, LakehouseResource
from orchestration.environment import dbt_env
from orchestration.progress import progress


class CivicTranslator(DagsterDbtTranslator):
    """Raw sources map onto the raw assets; models are keyed by their schema."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return dg.AssetKey([dbt_resource_props["source_name"], dbt_resource_props["name"]])
        schema = dbt_resource_props.get("config", {}).get("schema") or "main"
        return dg.AssetKey([schema, dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return dbt_resource_props.get("config", {}).get("schema") or "dbt"

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> Sequence[str] | None:
        return owners_of(self.get_group_name(dbt_resource_props) or "dbt")


def build_dbt_assets(partitions_def: dg.PartitionsDefinition, calendar: FiscalCalendar) -> dg.AssetsDefinition:
    @dbt_assets(
        manifest=ensure_manifest(),
        project=civic_dbt,
        partitions_def=partitions_def,
        backfill_policy=dg.BackfillPolicy.single_run(),
        dagster_dbt_translator=CivicTranslator(),
        pool="marts_duckdb",
    )
    def civic_dbt_models(context: dg.AssetExecutionContext, dbt: CivicDbtCliResource, lakehouse: LakehouseResource):
        missing = unbuilt_intermediate_parents(context.selected_asset_keys, context.assets_def.asset_deps)
        if missing:
            raise dg.Failure(refusal(missing), allow_retries=False)
        years = fiscal_years_of_keys(context.partition_keys, calendar)
        progress(f"  dbt build for FY{', FY'.join(map(str, years))}")
        # DuckDB takes one writer per file: concurrent refreshes build their marts in turn.
        settings = lakehouse.settings()
        with marts_lock(settings, progress):
            # dbt unit tests check formulas, not data: they run in the test suite, not every refresh
            args = ["build", "--exclude-resource-type", "unit_test", "--vars", json.dumps(dbt_vars(years, calendar))]
            # One target folder per CIVIC_HOME (not dagster-dbt's new one per run): dbt finds
            # its partial parse of the previous build there and skips a full parse (~4 s) when
            # the project, profile and --vars are unchanged; the marts lock keeps it one build
            # at a time.
            target = settings.home / "dbt-target"
            # held back until dbt has exited (and released DuckDB's write lock), so that each
            # model's materialization of a fiscal year carries that year's row count
            events: list = []
            try:
                for event in dbt.cli(args, context=context, target_path=target, env=dbt_env(settings)).stream():
                    events.append(event)
                    progress(f"  dbt build: {len(events)} results", status=True)
            except BaseException:
                yield from events  # what was built before the failure is recorded
                raise
            add_model_metadata(context, settings.duckdb_path, target, years, calendar)
            yield from events
        progress(f"  dbt build done for FY{', FY'.join(map(str, years))}", done=True)

    return civic_dbt_models


def model_tables(manifest: Mapping[str, Any], translator: DagsterDbtTranslator) -> dict[dg.AssetKey, tuple[str, str]]:
    """Asset key -> (schema, table) in DuckDB of every dbt model of the manifest."""
    return {
        key: relation
        for uid, (relation, key) in relation_keys(manifest, translator).items()
        if manifest["nodes"].get(uid, {}).get("resource_type") == "model"
    }


def add_model_metadata(
    context: dg.AssetExecutionContext, duckdb_path: Path, target: Path, years: list[int], calendar: FiscalCalendar
) -> None:
    """Row counts, column schemas and the marts' column lineage of the selected models,
    read over one read-only DuckDB connection after dbt has exited."""
    started = time.perf_counter()
    manifest = json.loads(ensure_manifest().read_text())
    translator = CivicTranslator()
    tables = model_tables(manifest, translator)
    selected = {k: tables[k] for k in context.selected_asset_keys if k in tables}
    built = built_models(duckdb_path, sorted(set(selected.values())), years)
    add_row_counts(context, selected, built.counts, calendar)
    columns, stats = model_column_metadata(manifest, translator, selected, built.columns, target)
    for key, metadata in columns.items():
        context.add_asset_metadata(metadata, asset_key=key)  # the same on every fiscal year
    context.log.info(
        f"model metadata in {time.perf_counter() - started:.2f}s: {stats.schemas} column schemas, "
        f"lineage of {stats.marts} marts ({stats.from_cache} from cache), "
        f"{stats.left_out} mart columns left out (lineage not resolved)"
    )


def add_row_counts(
    context: dg.AssetExecutionContext,
    selected: Mapping[dg.AssetKey, tuple[str, str]],
    counts: Mapping[tuple[str, str], TableCount],
    calendar: FiscalCalendar,
) -> None:
    """`dagster/row_count` of each selected model: per fiscal year when it has one (the
    year's own materialization), else the table's rows on every partition. Not dagster-dbt's
    fetch_row_counts(): it needs the in-process adapter CivicDbtCliResource does not build
    (~4 s a run), DuckDB refuses its read-only connection while dbt holds the write lock, and
    its count(*) of an incremental mart is every year's rows, on each partition."""
    for key, table in selected.items():
        if (count := counts.get(table)) is None:
            continue
        if count.by_year:
            add_partition_metadata(
                context,
                key,
                {calendar.key_of(y): {"dagster/row_count": dg.MetadataValue.int(n)} for y, n in count.by_year.items()},
            )
        else:
            context.add_asset_metadata({"dagster/row_count": dg.MetadataValue.int(count.rows)}, asset_key=key)


def mart_keys(dbt_assets_def: dg.AssetsDefinition) -> list[dg.AssetKey]:
    return [k for k in dbt_assets_def.keys if k.path[0] == "marts"]
