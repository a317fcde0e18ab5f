"""Service Inventory `si` rows -> `services` and `service_transactions` records.

One si row describes one service in one fiscal year: its catalogue entry and its
volumes per channel. The catalogue record keeps every si column; each of the nine volume
cells becomes one transaction record (applications per channel, telephone enquiries,
website visits), carrying the cell as published.
"""

from __future__ import annotations

from contracts.entities import FEED_REJECTED
from contracts.models import CHANNELS
from ingestion.feeds.base import REASON
from ingestion.feeds.fiscal_labels import fiscal_year_end
from ingestion.feeds.gc_codes import VOLUME_COLUMNS, fee_amount, id_list, positive, quoted_names, volume_cell

SERVICE_COLUMNS = {
    "service_id": "service_id",
    "name": "service_name_en",
    "priority_area": "_priority_area",
    "agency": "owner_org",
    "channels": "_channels",
    "fee": "_fee",
    "programme_id": "_programme_id",
    FEED_REJECTED: REASON,
}
TRANSACTION_COLUMNS = {
    "entry_id": "_entry_id",
    "fiscal_year": "_fiscal_year",
    "service_id": "service_id",
    "channel": "_channel",
    "kind": "_kind",
    "volume": "_volume",
    "volume_status": "volume_status",
}
# si columns a transaction record carries besides its own cell (the rest of the row is
# in the service's catalogue record)
_CONTEXT = ("fiscal_yr", "service_name_en", "owner_org", "num_applications_total")


def offered_channels(row: dict) -> str | None:
    """`;`-list, in our channel order, of the channels with applications (count > 0)."""
    used = {
        channel for col, (channel, kind) in VOLUME_COLUMNS.items() if kind == "application" and positive(row.get(col))
    }
    return ";".join(c for c in CHANNELS if c in used) or None


def service_records(rows: list[dict]) -> list[dict]:
    """The catalogue: a service described for several fiscal years (si holds SRV02975 for
    2023-2024 and 2024-2025) keeps its newest description; older copies are quarantined
    with that reason (the volumes of every year are in service_transactions)."""
    newest_first = sorted(rows, key=lambda r: -(fiscal_year_end(r.get("fiscal_yr")) or 0))
    kept: dict[str, str] = {}
    records = []
    for row in newest_first:
        record = service_record(row)
        service = (row.get("service_id") or "").strip()
        if service in kept:
            record["_reason"] = (
                f"service {service} is also described for {kept[service]}: the catalogue keeps that newest"
                f" description ({row.get('fiscal_yr')} volumes are in service_transactions)"
            )
        else:
            kept[service] = row.get("fiscal_yr") or ""
        records.append(record)
    return records


def service_record(row: dict) -> dict:
    title_en, _, title_fr = (row.get("owner_org_title") or "").partition(" | ")
    return {
        **row,
        "_reason": None,
        # no mapping from the inventory's service types to our priority areas is known
        "_priority_area": "other",
        "_channels": offered_channels(row),
        "_fee": fee_amount(row.get("service_fee")),
        "_programme_id": id_list(row.get("program_id")),
        "program_names_en": quoted_names(row.get("program_name_en")),
        "program_names_fr": quoted_names(row.get("program_name_fr")),
        "owner_org_title_en": title_en.strip() or None,
        "owner_org_title_fr": title_fr.strip() or None,
        "applications_total_check": total_check(row),
    }


def transaction_records(row: dict) -> list[dict]:
    label = (row.get("fiscal_yr") or "").strip()
    year = fiscal_year_end(label)
    service = (row.get("service_id") or "").strip()
    records = []
    for column, (channel, kind) in VOLUME_COLUMNS.items():
        volume, status = volume_cell(row.get(column))
        records.append(
            {
                **{k: row.get(k) for k in _CONTEXT},
                "_entry_id": f"{year if year is not None else label}-{service}-{channel}-{kind}",
                "_fiscal_year": None if year is None else str(year),
                "service_id": service or None,
                "_channel": channel,
                "_kind": kind,
                "_volume": volume,
                "volume_column": column,
                "volume_published": row.get(column),
                "volume_status": status,
            }
        )
    return records


def total_check(row: dict) -> str:
    """num_applications_total against the sum of the application cells that hold numbers
    (NA/ND count as nothing): 'agrees', 'disagrees', or 'no_total' when it is no number."""
    total, status = volume_cell(row.get("num_applications_total"))
    if status != "reported":
        return "no_total"
    counted = [volume_cell(row.get(c)) for c, (_, kind) in VOLUME_COLUMNS.items() if kind == "application"]
    channel_sum = sum(float(v) for v, s in counted if s == "reported")
    return "agrees" if abs(channel_sum - float(total)) < 1e-9 else "disagrees"
