"""Service Inventory `ss` rows -> `service_standard_results` records.

A standard's id is not unique on its own: departments reuse ids across their services
(ss_2024 has 8 ids on two services each), so a result is keyed by fiscal year, service
and standard. The file's own `performance` and `target_met` are kept as published; the
marts recompute both from the volumes and the target.
"""

from __future__ import annotations

from contracts.entities import FEED_REJECTED
from ingestion.feeds.base import REASON
from ingestion.feeds.fiscal_labels import fiscal_year_end
from ingestion.feeds.gc_codes import STANDARD_TYPES, channel_of, standard_id, target_share

STANDARD_COLUMNS = {
    "result_id": "_result_id",
    "fiscal_year": "_fiscal_year",
    "service_id": "service_id",
    "standard_id": "_standard_id",
    "standard_name": "service_standard_en",
    "standard_type": "_standard_type",
    "channel": "_channel",
    "target": "_target",
    "volume_meeting_target": "volume_meeting_target",
    "total_volume": "total_volume",
    FEED_REJECTED: REASON,
}


def standard_record(row: dict) -> dict:
    label = (row.get("fiscal_yr") or "").strip()
    year = fiscal_year_end(label)
    service = (row.get("service_id") or "").strip()
    published_id = (row.get("service_standard_id") or "").strip()
    target, scale = target_share(row.get("target"))
    type_code = (row.get("type") or "").strip().upper()
    the_id = standard_id(published_id)
    return {
        **row,
        "_result_id": f"{year if year is not None else label}-{service}-{published_id}",
        "_fiscal_year": None if year is None else str(year),
        "service_id": service or None,
        "_standard_id": the_id,
        # placeholders ('NA', 'Not Available') are no id: the row is quarantined
        "_reason": None if the_id else f"service_standard_id {published_id!r} is a placeholder, not a standard id",
        "_standard_type": STANDARD_TYPES.get(type_code, type_code.lower() or None),
        "_channel": channel_of(row.get("channel")),
        "_target": target,
        "target_scale": scale,
    }
