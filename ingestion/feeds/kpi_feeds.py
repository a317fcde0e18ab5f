"""What the published KPI feeds (uk_opg, au_dta, ...) share: the observation key and the
canonical `kpi_observations` columns, so each feed only says how its fields map."""

from __future__ import annotations

from ingestion.feeds.base import computed_columns

# canonical column -> key in the normalised record (text_batches keeps the other keys)
KPI_COLUMNS = computed_columns("kpi_observations")


def observation_id(publisher, service_id, kpi, dimension, channel, period_start) -> str:
    """publisher/service/kpi/dimension/channel/period_start: one figure per key, so a feed
    that publishes the same figure twice has its second copy quarantined (unique_id)."""
    return "/".join(
        "" if part is None else str(part) for part in (publisher, service_id, kpi, dimension, channel, period_start)
    )


def observation(
    publisher, service_id, service_name, kpi, dimension, channel, period_start, period, value, unit
) -> dict:
    """The canonical fields of one observation, under the keys KPI_COLUMNS reads."""
    return {
        "_observation_id": observation_id(publisher, service_id, kpi, dimension, channel, period_start),
        "_publisher": publisher,
        "_service_id": service_id,
        "_service_name": service_name,
        "_kpi": kpi,
        "_dimension": dimension,
        "_channel": channel,
        "_period_start": period_start,
        "_period": period,
        "_value": value,
        "_unit": unit,
    }
