"""`civic ingest` runs no Dagster run; its loads are recorded as materializations of the raw
assets they wrote (runless asset events), one per table and fiscal year with that load's
own counts, so the UI shows every load of the lake, not only those Dagster ran."""

from __future__ import annotations

from collections.abc import Iterable

import dagster as dg

from contracts.fiscal_year import FiscalCalendar, FiscalYears
from lake.load_ledger import LoadRecord
from orchestration.defs.raw.assets import raw_asset_key


def ingest_event(record: LoadRecord, calendar: FiscalCalendar) -> dg.AssetMaterialization:
    return dg.AssetMaterialization(
        asset_key=raw_asset_key(record.table_name.removeprefix("raw.")),
        partition=calendar.key_of(record.fiscal_year) if record.fiscal_year is not None else None,
        description=f"civic ingest of feed {record.source}",
        metadata={
            "dagster/row_count": dg.MetadataValue.int(record.loaded),
            "received": dg.MetadataValue.int(record.received),
            "loaded": dg.MetadataValue.int(record.loaded),
            "quarantined": dg.MetadataValue.int(record.quarantined),
            # text: a 64-bit id read as a JSON number is rounded by the browser
            "snapshot_id": dg.MetadataValue.text(str(record.snapshot_id or "")),
            "load_id": dg.MetadataValue.text(record.load_id),
            "feed": dg.MetadataValue.text(record.source),
        },
    )


def report_ingest(
    instance: dg.DagsterInstance, records: Iterable[LoadRecord], calendar: FiscalCalendar, fiscal_years: FiscalYears
) -> int:
    """Record the loads of the configured fiscal years (the partitions); how many were."""
    recorded = 0
    for record in records:
        if record.fiscal_year in fiscal_years:
            instance.report_runless_asset_event(ingest_event(record, calendar))
            recorded += 1
    return recorded
