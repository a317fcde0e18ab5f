"""One partitioned asset per raw table: landing files -> contracts -> Iceberg, with checks.

Both checks are blocking: when rows went missing (row accounting) or when more of a
year's rows broke the contract than the tolerated share, the marts of that year are not
built from them. Their counts are on the check results in the UI.
"""

import os

import dagster as dg

from contracts.entities import ENTITIES
from contracts.errors import ContractError
from contracts.fiscal_year import FiscalCalendar
from ingestion.errors import SourceFileError
from lake.commit import partition_filter
from lake.counts import partition_rows
from lake.locks import catalog_write_lock
from lake.quarantine import QUARANTINE_TABLE
from lake.reference import services_catalogue
from lake.shrink_guard import ShrinkRefused
from orchestration.defs.owners import owners_of
from orchestration.defs.partition_events import add_partition_metadata, partition_check_results
from orchestration.defs.partitions import fiscal_years_of_keys
from orchestration.defs.resources import LakehouseResource
from orchestration.load.feeds import FeedsConfigError
from orchestration.load.flow import LANDING_FEED, ingest_year, load_feeds
from orchestration.progress import progress

DEFAULT_MAX_QUARANTINE_SHARE = 0.05


def max_quarantine_share() -> float:
    """The largest share of quarantined rows a load may have before the marts stop."""
    return float(os.environ.get("CIVIC_MAX_QUARANTINE_SHARE", DEFAULT_MAX_QUARANTINE_SHARE))


# Transient failures (S3 or catalog unavailable for a moment) are retried; data problems
# are raised as Failure(allow_retries=False): retrying cannot fix a file.
TRANSIENT_RETRY = dg.RetryPolicy(max_retries=3, delay=2, backoff=dg.Backoff.EXPONENTIAL)


def data_failure(err: Exception) -> dg.Failure:
    return dg.Failure(description=str(err), allow_retries=False)


COUNTS = ("received", "loaded", "quarantined")


def contract_result(counts: dict[str, int], limit: float) -> tuple[bool, dict]:
    """(passed, metadata) of the contract check for one fiscal year's counts."""
    share = counts["quarantined"] / counts["received"] if counts["received"] else 0.0
    return share <= limit, {
        "quarantined_pct": dg.MetadataValue.float(round(100 * share, 2)),
        "max_pct": dg.MetadataValue.float(round(100 * limit, 2)),
        **counts,
    }


def raw_asset_key(entity: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", entity])


def build_raw_asset(
    entity: str, partitions_def: dg.PartitionsDefinition, calendar: FiscalCalendar
) -> dg.AssetsDefinition:
    key = raw_asset_key(entity)
    deps = [] if entity == "services" else [raw_asset_key("services")]

    @dg.asset(
        key=key,
        deps=deps,
        partitions_def=partitions_def,
        backfill_policy=dg.BackfillPolicy.single_run(),
        group_name="raw",
        owners=owners_of("raw"),
        retry_policy=TRANSIENT_RETRY,
        kinds={"iceberg", "dlt", "pandera"},
        description=f"Raw `{entity}` (docs/raw_tables.md): landing files of the fiscal year and that year's rows of "
        "the feeds of feeds.yml (docs/feeds.md), "
        "validated by its pandera contract, one Iceberg commit per fiscal year.",
        check_specs=[
            dg.AssetCheckSpec(
                "row_accounting",
                asset=key,
                blocking=True,
                partitions_def=partitions_def,  # one result per fiscal year (partition_events.py)
                description="received = loaded + quarantined, and Iceberg holds exactly the loaded and quarantined rows",
            ),
            dg.AssetCheckSpec(
                "contract",
                asset=key,
                blocking=True,
                partitions_def=partitions_def,  # one result per fiscal year (partition_events.py)
                description="at most CIVIC_MAX_QUARANTINE_SHARE (default "
                f"{DEFAULT_MAX_QUARANTINE_SHARE:.0%}) of the rows broke the pandera contract",
            ),
        ],
    )
    def _raw(context: dg.AssetExecutionContext, lakehouse: LakehouseResource):
        settings = lakehouse.settings()
        catalog = lakehouse.catalog()
        years = fiscal_years_of_keys(context.partition_keys, calendar)
        # each fiscal year's own loads, counts and problems: one materialization and one
        # check result per year, also when a run covers a range (partition_events.py)
        loads: dict[int, dict[str, dict]] = {fy: {} for fy in years}
        counts: dict[int, dict[str, int]] = {fy: dict.fromkeys(COUNTS, 0) for fy in years}
        problems: dict[int, list[str]] = {fy: [] for fy in years}

        def account(rec) -> None:
            fy = rec.fiscal_year
            label = f"FY{fy}" if rec.source == LANDING_FEED else f"FY{fy} {rec.source}"
            in_lake = partition_rows(catalog, f"raw.{entity}", partition_filter(fy, _source=rec.source))
            in_quarantine = partition_rows(
                catalog, QUARANTINE_TABLE, partition_filter(fy, entity=entity, source=rec.source)
            )
            if rec.received != rec.loaded + rec.quarantined:
                problems[fy].append(
                    f"{label}: received {rec.received} != loaded {rec.loaded} + quarantined {rec.quarantined}"
                )
            if in_lake != rec.loaded or in_quarantine != rec.quarantined:
                problems[fy].append(
                    f"{label}: Iceberg holds {in_lake} rows and {in_quarantine} quarantined, "
                    f"the load reported {rec.loaded} and {rec.quarantined}"
                )
            loads[fy][str(fy) if rec.source == LANDING_FEED else f"{fy} {rec.source}"] = {
                "received": rec.received,
                "loaded": rec.loaded,
                "quarantined": rec.quarantined,
                # text: a 64-bit id read as a JSON number is rounded by the browser
                "snapshot_id": None if rec.snapshot_id is None else str(rec.snapshot_id),
                "load_id": rec.load_id,
            }
            for name in COUNTS:
                counts[fy][name] += getattr(rec, name)
            progress(
                f"  raw.{entity} {label}: received {rec.received:,}, loaded {rec.loaded:,}, "
                f"quarantined {rec.quarantined:,} ({rec.seconds:.1f}s)",
                done=True,
            )

        for fy in years:
            progress(f"  raw.{entity} FY{fy}: loading")
            try:
                with catalog_write_lock(settings, progress):
                    rec = ingest_year(settings, catalog, entity, fy, run_id=context.run.run_id)
            except (ContractError, SourceFileError, LookupError, ShrinkRefused) as err:
                raise data_failure(err) from err
            account(rec)
        # the feeds of feeds.yml: their rows of these fiscal years (docs/feeds.md)
        try:
            from_feeds = load_feeds(
                settings, catalog, entity, years, context.run.run_id, lambda: catalog_write_lock(settings, progress)
            )
        except (ContractError, SourceFileError, LookupError, FeedsConfigError, ShrinkRefused) as err:
            raise data_failure(err) from err
        for rec in from_feeds:
            account(rec)
        # which services catalogue each year stood on, when not its own (lake.reference);
        # said once per year, by the catalogue's own asset (the loads of the other entities
        # already read it, and their rows carry the reason when there is none)
        notes: dict[str, str] = {}
        if entity == "services":
            for fy in years:
                if note := services_catalogue(catalog, fy).note:
                    notes[str(fy)] = note
                    progress(f"  raw.{entity}: {note}")
        limit = max_quarantine_share()
        keys = {fy: calendar.key_of(fy) for fy in years}
        add_partition_metadata(
            context,
            key,
            {
                keys[fy]: {
                    "dagster/row_count": dg.MetadataValue.int(counts[fy]["loaded"]),
                    **{k: dg.MetadataValue.int(v) for k, v in counts[fy].items()},
                    "fiscal_years": dg.MetadataValue.text(str(fy)),
                    "loads": dg.MetadataValue.json(loads[fy]),
                    **(
                        {"services_catalogue": dg.MetadataValue.json({str(fy): notes[str(fy)]})}
                        if str(fy) in notes
                        else {}
                    ),
                }
                for fy in years
            },
        )
        # what the whole run did; each partition's materialization carries its own year's
        yield dg.MaterializeResult(
            metadata={"run_fiscal_years": dg.MetadataValue.text(", ".join(map(str, years)))},
        )
        yield from partition_check_results(
            context,
            key,
            "row_accounting",
            {
                keys[fy]: (
                    not problems[fy],
                    {**counts[fy], "problems": dg.MetadataValue.text("; ".join(problems[fy]) or "none")},
                )
                for fy in years
            },
        )
        yield from partition_check_results(
            context,
            key,
            "contract",
            {keys[fy]: contract_result(counts[fy], limit) for fy in years},
        )

    return _raw


def build_raw_assets(partitions_def: dg.PartitionsDefinition, calendar: FiscalCalendar) -> list[dg.AssetsDefinition]:
    return [build_raw_asset(name, partitions_def, calendar) for name in ENTITIES]
