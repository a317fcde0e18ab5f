"""pandera models: what a valid row of each canonical entity looks like.

Static rules live on the models. Rules that depend on the load (the service catalogue of
the year, the fiscal-year window, ids already seen in earlier batches) are added by
`contracts.rules.schema_for`.
"""

from __future__ import annotations

import datetime as dt
from typing import Optional

import pandera.polars as pa
import polars as pl

from contracts.entities import CHANNELS, PHASES, PRIORITY_AREAS


class _Lenient(pa.DataFrameModel):
    class Config:
        strict = False  # extra source columns are kept, not rejected
        coerce = False  # coercion is done (and reported per row) by contracts.coerce


class ServiceModel(_Lenient):
    service_id: str = pa.Field(nullable=False)
    name: str = pa.Field(nullable=False)
    priority_area: str = pa.Field(nullable=False, isin=list(PRIORITY_AREAS))
    cofog_division: Optional[str] = pa.Field(nullable=True)
    agency: Optional[str] = pa.Field(nullable=True)
    channels: Optional[str] = pa.Field(nullable=True)
    target_wait_minutes: Optional[float] = pa.Field(nullable=True, ge=0)
    target_days_to_complete: Optional[float] = pa.Field(nullable=True, ge=0)
    fee: Optional[float] = pa.Field(nullable=True, ge=0)


class QueueEventModel(_Lenient):
    ticket_id: str = pa.Field(nullable=False)
    site_id: Optional[str] = pa.Field(nullable=True)
    service_id: str = pa.Field(nullable=False)
    issued_at: dt.datetime = pa.Field(nullable=False)
    called_at: dt.datetime = pa.Field(nullable=True)
    completed_at: Optional[dt.datetime] = pa.Field(nullable=True)
    outcome: str = pa.Field(nullable=False, isin=["served", "no_show", "transferred", "cancelled"])
    device_id: Optional[str] = pa.Field(nullable=True)

    @pa.dataframe_check(name="called_after_issued")
    def called_after_issued(cls, data) -> pl.LazyFrame:
        """A ticket cannot be called before it was issued (negative wait)."""
        return data.lazyframe.select(
            pl.col("called_at").is_null() | (pl.col("called_at") >= pl.col("issued_at"))
        )

    @pa.dataframe_check(name="completed_after_called")
    def completed_after_called(cls, data) -> pl.LazyFrame:
        """Service cannot end before it started (negative service time)."""
        if "completed_at" not in data.lazyframe.collect_schema().names():
            return data.lazyframe.select(pl.lit(True))
        return data.lazyframe.select(
            pl.col("completed_at").is_null()
            | pl.col("called_at").is_null()
            | (pl.col("completed_at") >= pl.col("called_at"))
        )


class WebSessionModel(_Lenient):
    session_id: str = pa.Field(nullable=False)
    service_id: str = pa.Field(nullable=False)
    started_at: dt.datetime = pa.Field(nullable=False)
    ended_at: Optional[dt.datetime] = pa.Field(nullable=True)
    completed: bool = pa.Field(nullable=False)
    last_step: Optional[str] = pa.Field(nullable=True)
    fee_amount: Optional[float] = pa.Field(nullable=True, ge=0)
    device_category: Optional[str] = pa.Field(nullable=True)
    channel_group: Optional[str] = pa.Field(nullable=True)

    @pa.dataframe_check(name="ended_after_started")
    def ended_after_started(cls, data) -> pl.LazyFrame:
        if "ended_at" not in data.lazyframe.collect_schema().names():
            return data.lazyframe.select(pl.lit(True))
        return data.lazyframe.select(
            pl.col("ended_at").is_null() | (pl.col("ended_at") >= pl.col("started_at"))
        )


class SurveyResponseModel(_Lenient):
    response_id: str = pa.Field(nullable=False)
    service_id: str = pa.Field(nullable=False)
    channel: Optional[str] = pa.Field(nullable=True, isin=list(CHANNELS))
    responded_at: dt.datetime = pa.Field(nullable=False)
    # null = "don't know": kept, excluded from satisfaction measures
    satisfaction: Optional[pl.Int32] = pa.Field(nullable=True, in_range={"min_value": 1, "max_value": 5})
    nps: Optional[pl.Int32] = pa.Field(nullable=True, in_range={"min_value": 0, "max_value": 10})
    perceived_wait_minutes: Optional[float] = pa.Field(nullable=True, ge=0)
    respondent_key: Optional[str] = pa.Field(nullable=True)


class ServiceRequestModel(_Lenient):
    request_id: str = pa.Field(nullable=False)
    service_id: str = pa.Field(nullable=False)
    channel: str = pa.Field(nullable=False, isin=list(CHANNELS))
    requested_at: dt.datetime = pa.Field(nullable=False)
    closed_at: Optional[dt.datetime] = pa.Field(nullable=True)
    expected_at: Optional[dt.datetime] = pa.Field(nullable=True)
    status: str = pa.Field(nullable=False, isin=["open", "closed"])
    agency: Optional[str] = pa.Field(nullable=True)
    location: Optional[str] = pa.Field(nullable=True)

    @pa.dataframe_check(name="closed_after_requested")
    def closed_after_requested(cls, data) -> pl.LazyFrame:
        if "closed_at" not in data.lazyframe.collect_schema().names():
            return data.lazyframe.select(pl.lit(True))
        return data.lazyframe.select(
            pl.col("closed_at").is_null() | (pl.col("closed_at") >= pl.col("requested_at"))
        )


class LedgerEntryModel(_Lenient):
    entry_id: str = pa.Field(nullable=False)
    fiscal_year: pl.Int32 = pa.Field(nullable=False)
    programme_id: Optional[str] = pa.Field(nullable=True)
    service_id: Optional[str] = pa.Field(nullable=True)  # null = shared cost centre
    cost_centre: str = pa.Field(nullable=False)
    economic_class: Optional[str] = pa.Field(nullable=True)
    channel: Optional[str] = pa.Field(nullable=True, isin=list(CHANNELS))
    phase: str = pa.Field(nullable=False, isin=list(PHASES))
    amount: float = pa.Field(nullable=False)
    currency: str = pa.Field(nullable=False, str_length={"min_value": 3, "max_value": 3})


MODELS: dict[str, type[pa.DataFrameModel]] = {
    "services": ServiceModel,
    "queue_events": QueueEventModel,
    "web_sessions": WebSessionModel,
    "survey_responses": SurveyResponseModel,
    "service_requests": ServiceRequestModel,
    "ledger_entries": LedgerEntryModel,
}
