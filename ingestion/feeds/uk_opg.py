"""UK Office of the Public Guardian service KPIs: the post-Performance-Platform GDS format,
a JSON array of `{_timestamp, service, channel, dataType, count, period}` per service.

`count` holds every figure, counts and percentages alike (sometimes as text: "44.2").
The five satisfaction levels are kept as counts so the published percentage can be
recomputed (OPG switched between the weighted mean and the top-2 box over time).
"""

from __future__ import annotations

import re
from pathlib import Path

from ingestion.feeds.base import REASON, FeedKind, Reads, mapped, read_json_records, suffixed
from ingestion.feeds.kpi_feeds import KPI_COLUMNS, observation

PUBLISHER = "uk_opg"
SATISFACTION_LEVELS = ("very-dissatisfied", "dissatisfied", "neither", "satisfied", "very-satisfied")
# dataType -> (kpi, unit); a satisfaction level is the dimension of satisfaction_responses
DATA_TYPES = {
    "user-satisfaction-percent": ("user_satisfaction", "percent"),
    "digital-take-up": ("digital_take_up", "percent"),
    "uptime-percent": ("uptime", "percent"),
    **{level: ("satisfaction_responses", "count") for level in SATISFACTION_LEVELS},
}
# GOV.UK "digital" is the online service
CHANNELS = {"digital": "online"}
_OFFSET = re.compile(r"(Z|[+-]\d{2}:?\d{2})$")


def service_name(path: Path) -> str:
    """make_a_lasting_power_of_attorney_service.json -> 'Make a lasting power of attorney service'."""
    return path.stem.replace("_", " ").strip().capitalize()


def normalise(record: dict, name: str) -> dict:
    data_type = record.get("dataType")
    kpi, unit = DATA_TYPES.get(data_type, (data_type, None))
    dimension = data_type if kpi == "satisfaction_responses" else None
    raw_channel = record.get("channel")
    channel = CHANNELS.get(str(raw_channel).strip().lower(), raw_channel) if raw_channel is not None else None
    stamp = record.get("_timestamp")
    period_start = _OFFSET.sub("", stamp.strip()) if isinstance(stamp, str) else stamp
    out = {k: v for k, v in record.items() if k != "_timestamp"}
    out["source_timestamp"] = stamp
    out.update(
        observation(
            PUBLISHER,
            record.get("service"),
            name,
            kpi,
            dimension,
            channel,
            period_start,
            record.get("period"),
            record.get("count"),
            unit,
        )
    )
    # a dataType we do not know is quarantined by the contract with this reason
    out[REASON] = (
        None
        if data_type in DATA_TYPES
        else (f"dataType {data_type!r} is not one of the OPG figures we map ({', '.join(DATA_TYPES)})")
    )
    return out


class UkOpgKind(FeedKind):
    kind = "uk_opg"
    entities = ("kpi_observations",)
    reads = {"kpi_observations": Reads(suffixed((".json",)), mapped(lambda _, path: records_of(path), KPI_COLUMNS))}


def records_of(path: Path) -> list[dict]:
    name = service_name(path)
    return [normalise(r, name) for r in read_json_records(path)]
