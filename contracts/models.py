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

from contracts.entities import CHANNELS, KPIS, PHASES, PRIORITY_AREAS, TRANSACTION_KINDS, WAIT_KINDS


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
    programme_id: Optional[str] = pa.Field(nullable=True)


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


class ServiceTransactionModel(_Lenient):
    entry_id: str = pa.Field(nullable=False)
    fiscal_year: pl.Int32 = pa.Field(nullable=False)
    service_id: str = pa.Field(nullable=False)
    channel: str = pa.Field(nullable=False, isin=list(CHANNELS))
    kind: str = pa.Field(nullable=False, isin=list(TRANSACTION_KINDS))
    volume: Optional[float] = pa.Field(nullable=True, ge=0)  # null = not reported


class ServiceStandardResultModel(_Lenient):
    result_id: str = pa.Field(nullable=False)
    fiscal_year: pl.Int32 = pa.Field(nullable=False)
    service_id: str = pa.Field(nullable=False)
    standard_id: str = pa.Field(nullable=False)
    standard_name: Optional[str] = pa.Field(nullable=True)
    standard_type: Optional[str] = pa.Field(nullable=True)
    channel: Optional[str] = pa.Field(nullable=True)
    target: Optional[float] = pa.Field(nullable=True, ge=0, le=1)
    volume_meeting_target: Optional[float] = pa.Field(nullable=True, ge=0)
    total_volume: Optional[float] = pa.Field(nullable=True, ge=0)


class WaitObservationModel(_Lenient):
    observation_id: str = pa.Field(nullable=False)
    site_id: str = pa.Field(nullable=False)
    site_name: Optional[str] = pa.Field(nullable=True)
    region: Optional[str] = pa.Field(nullable=True)
    service_id: Optional[str] = pa.Field(nullable=True)
    observed_at: dt.datetime = pa.Field(nullable=False)
    wait_kind: str = pa.Field(nullable=False, isin=list(WAIT_KINDS))
    wait_minutes: Optional[float] = pa.Field(nullable=True, ge=0)
    customers_waiting: Optional[pl.Int64] = pa.Field(nullable=True, ge=0)
    customers_served: Optional[pl.Int64] = pa.Field(nullable=True, ge=0)
    open_counters: Optional[pl.Int64] = pa.Field(nullable=True, ge=0)
    mean_service_minutes: Optional[float] = pa.Field(nullable=True, ge=0)


class WebTrafficDailyModel(_Lenient):
    row_id: str = pa.Field(nullable=False)
    property: str = pa.Field(nullable=False)
    report: str = pa.Field(nullable=False)
    day: dt.datetime = pa.Field(nullable=False)
    period_days: Optional[pl.Int32] = pa.Field(nullable=True, ge=1)
    dimension: Optional[str] = pa.Field(nullable=True)
    dimension_value: Optional[str] = pa.Field(nullable=True)
    service_id: Optional[str] = pa.Field(nullable=True)
    visits: Optional[pl.Int64] = pa.Field(nullable=True, ge=0)
    users: Optional[pl.Int64] = pa.Field(nullable=True, ge=0)
    avg_session_seconds: Optional[float] = pa.Field(nullable=True, ge=0)
    bounce_rate: Optional[float] = pa.Field(nullable=True, ge=0, le=1)
    engagement_rate: Optional[float] = pa.Field(nullable=True, ge=0, le=1)
    events: Optional[pl.Int64] = pa.Field(nullable=True, ge=0)


class KpiObservationModel(_Lenient):
    observation_id: str = pa.Field(nullable=False)
    publisher: str = pa.Field(nullable=False)
    service_id: str = pa.Field(nullable=False)
    service_name: Optional[str] = pa.Field(nullable=True)
    kpi: str = pa.Field(nullable=False, isin=list(KPIS))
    dimension: Optional[str] = pa.Field(nullable=True)
    channel: Optional[str] = pa.Field(nullable=True)
    period_start: dt.datetime = pa.Field(nullable=False)
    period: Optional[str] = pa.Field(nullable=True, isin=["day", "week", "month", "quarter", "year"])
    value: Optional[float] = pa.Field(nullable=True)
    unit: Optional[str] = pa.Field(nullable=True)


class SurveyAnswerModel(_Lenient):
    answer_id: str = pa.Field(nullable=False)
    survey_id: str = pa.Field(nullable=False)
    respondent_key: str = pa.Field(nullable=False)
    question_id: str = pa.Field(nullable=False)
    question_text: Optional[str] = pa.Field(nullable=True)
    service_id: Optional[str] = pa.Field(nullable=True)
    responded_at: dt.datetime = pa.Field(nullable=False)
    score: Optional[pl.Int32] = pa.Field(nullable=True, in_range={"min_value": 1, "max_value": 5})
    dont_know: Optional[bool] = pa.Field(nullable=True)
    weight: Optional[float] = pa.Field(nullable=True, ge=0)
    area: Optional[str] = pa.Field(nullable=True)


MODELS: dict[str, type[pa.DataFrameModel]] = {
    "services": ServiceModel,
    "queue_events": QueueEventModel,
    "web_sessions": WebSessionModel,
    "survey_responses": SurveyResponseModel,
    "service_requests": ServiceRequestModel,
    "ledger_entries": LedgerEntryModel,
    "service_transactions": ServiceTransactionModel,
    "service_standard_results": ServiceStandardResultModel,
    "wait_observations": WaitObservationModel,
    "web_traffic_daily": WebTrafficDailyModel,
    "kpi_observations": KpiObservationModel,
    "survey_answers": SurveyAnswerModel,
}
