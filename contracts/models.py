"""pandera models: what a valid row of each canonical entity looks like.

Each model is the one declaration of its entity's columns: the annotation gives the
column's type (`contracts.entities.Entity.columns` reads it from the model's schema),
`required(...)` marks a column every delivery must carry (it may still hold nulls where
`nullable=True`), and the Field's checks are the column's static rules.

Static rules live on the models. Rules that depend on the load (the service catalogue of
the year, the fiscal-year window, ids already seen in earlier batches) are added by
`contracts.rules.schema_for`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Optional

import pandera.polars as pa
import polars as pl

from contracts.personal import PERSONAL, Protection, pseudonym

TRANSACTION_KINDS = ("application", "phone_enquiry", "website_visit")
VOLUME_STATUSES = ("reported", "not_applicable", "not_collected", "blank", "unreadable")
WAIT_KINDS = ("estimated", "actual", "appointment", "walk_in")
KPIS = (
    "user_satisfaction",
    "digital_take_up",
    "completion_rate",
    "cost_per_transaction",
    "uptime",
    "transactions",
    "satisfaction_responses",
    # any other published performance figure, named by the dimension (a dashboard's
    # device share, an MMR indicator): kept, but not one of the standard KPIs above
    "indicator",
)
CHANNELS = ("online", "mobile", "phone", "in_person", "mail", "email", "fax", "other")
PRIORITY_AREAS = (
    "health",
    "public_works",
    "education",
    "permits",
    "licences",
    "social",
    "transport",
    "other",
)
PHASES = ("proposed", "approved", "adjusted", "executed")
# The ledger's economic class of a fee revenue line: money a service took in (a positive
# amount, with its service and channel), never a cost (LedgerEntryModel.fee_revenue_line).
FEE_REVENUE_CLASS = "fee_revenue"

# The Field metadata key marking a column every delivery must carry.
REQUIRED = "required"
# The Field metadata key (and the quarantine rule) of a number column's plausible bound:
# a value whose magnitude is beyond it is a unit or export error (a wait of 1e9 minutes,
# a ledger line of 1e15), quarantined rather than let into a mart's sums and means.
PLAUSIBLE = "plausible_bound"
WAIT_MINUTES_BOUND = 60 * 24 * 366  # a year
AMOUNT_BOUND = 1e12  # one ledger line of a trillion: beyond any service's budget
COUNT_BOUND = 1e11


def required(bound: float | None = None, **field: Any) -> Any:
    """A Field for a column the batch is refused without (pandera's nullability and
    checks still decide about its values); `bound` as for `plausible`."""
    return pa.Field(metadata={REQUIRED: True, **({PLAUSIBLE: bound} if bound else {})}, **field)


def plausible(bound: float, **field: Any) -> Any:
    """A Field for a number column whose values lie within +-`bound`."""
    return pa.Field(metadata={PLAUSIBLE: bound}, **field)


def personal(protection: Protection, *, must_deliver: bool = False, **field: Any) -> Any:
    """A Field for a personal column (`contracts.personal`): ingestion protects its values
    before the contracts see them; `must_deliver` as for `required`."""
    metadata: dict[str, Any] = {PERSONAL: protection}
    if must_deliver:
        metadata[REQUIRED] = True
    return pa.Field(metadata=metadata, **field)


class _Lenient(pa.DataFrameModel):
    class Config:
        strict = False  # extra source columns are kept, not rejected
        coerce = False  # coercion is done (and reported per row) by contracts.coerce


class ServiceModel(_Lenient):
    service_id: str = required(nullable=False)
    name: str = required(nullable=False)
    priority_area: str = required(nullable=False, isin=list(PRIORITY_AREAS))
    cofog_division: Optional[str] = pa.Field(nullable=True)
    agency: Optional[str] = pa.Field(nullable=True)
    channels: Optional[str] = pa.Field(nullable=True)
    target_wait_minutes: Optional[float] = plausible(WAIT_MINUTES_BOUND, nullable=True, ge=0)
    target_days_to_complete: Optional[float] = plausible(3660, nullable=True, ge=0)
    fee: Optional[float] = plausible(AMOUNT_BOUND, nullable=True, ge=0)
    # programme(s) that fund the service, `;`-separated (costs booked to a programme
    # are apportioned to its services)
    programme_id: Optional[str] = pa.Field(nullable=True)


class QueueEventModel(_Lenient):
    ticket_id: str = required(nullable=False)
    site_id: Optional[str] = pa.Field(nullable=True)
    service_id: str = required(nullable=False)
    issued_at: dt.datetime = required(nullable=False)
    called_at: dt.datetime = required(nullable=True)
    completed_at: Optional[dt.datetime] = pa.Field(nullable=True)
    outcome: str = required(nullable=False, isin=["served", "no_show", "transferred", "cancelled"])
    device_id: Optional[str] = pa.Field(nullable=True)

    @pa.dataframe_check(name="called_after_issued")
    def called_after_issued(cls, data) -> pl.LazyFrame:
        """A ticket cannot be called before it was issued (negative wait)."""
        return data.lazyframe.select(pl.col("called_at").is_null() | (pl.col("called_at") >= pl.col("issued_at")))

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
    session_id: str = required(nullable=False)
    service_id: str = required(nullable=False)
    started_at: dt.datetime = required(nullable=False)
    ended_at: Optional[dt.datetime] = pa.Field(nullable=True)
    completed: bool = required(nullable=False)
    last_step: Optional[str] = pa.Field(nullable=True)
    fee_amount: Optional[float] = plausible(AMOUNT_BOUND, nullable=True, ge=0)
    device_category: Optional[str] = pa.Field(nullable=True)
    channel_group: Optional[str] = pa.Field(nullable=True)

    @pa.dataframe_check(name="ended_after_started")
    def ended_after_started(cls, data) -> pl.LazyFrame:
        if "ended_at" not in data.lazyframe.collect_schema().names():
            return data.lazyframe.select(pl.lit(True))
        return data.lazyframe.select(pl.col("ended_at").is_null() | (pl.col("ended_at") >= pl.col("started_at")))


class SurveyResponseModel(_Lenient):
    response_id: str = required(nullable=False)
    service_id: str = required(nullable=False)
    channel: Optional[str] = pa.Field(nullable=True, isin=list(CHANNELS))
    responded_at: dt.datetime = required(nullable=False)
    # null = "don't know": kept, excluded from satisfaction measures
    satisfaction: Optional[pl.Int32] = required(nullable=True, in_range={"min_value": 1, "max_value": 5})
    nps: Optional[pl.Int32] = pa.Field(nullable=True, in_range={"min_value": 0, "max_value": 10})
    perceived_wait_minutes: Optional[float] = plausible(WAIT_MINUTES_BOUND, nullable=True, ge=0)
    # the respondent as the source identifies them (a citizen or account number)
    respondent_key: Optional[str] = personal(pseudonym("respondent"), nullable=True)


class ServiceRequestModel(_Lenient):
    request_id: str = required(nullable=False)
    service_id: str = required(nullable=False)
    channel: str = required(nullable=False, isin=list(CHANNELS))
    requested_at: dt.datetime = required(nullable=False)
    closed_at: Optional[dt.datetime] = pa.Field(nullable=True)
    expected_at: Optional[dt.datetime] = pa.Field(nullable=True)
    status: str = required(nullable=False, isin=["open", "closed"])
    agency: Optional[str] = pa.Field(nullable=True)
    # where the request is about: often a street address (a person's home)
    location: Optional[str] = personal(pseudonym("address"), nullable=True)
    # the coarse area it is in (ward, ZIP code, community board, grid cell): an area, not
    # a person's place, so kept in clear (marts.request_hot_spots); optional
    area: Optional[str] = pa.Field(nullable=True)

    @pa.dataframe_check(name="closed_after_requested")
    def closed_after_requested(cls, data) -> pl.LazyFrame:
        if "closed_at" not in data.lazyframe.collect_schema().names():
            return data.lazyframe.select(pl.lit(True))
        return data.lazyframe.select(pl.col("closed_at").is_null() | (pl.col("closed_at") >= pl.col("requested_at")))


class LedgerEntryModel(_Lenient):
    entry_id: str = required(nullable=False)
    fiscal_year: pl.Int32 = required(nullable=False)
    programme_id: Optional[str] = pa.Field(nullable=True)
    service_id: Optional[str] = pa.Field(nullable=True)  # null = shared cost centre
    cost_centre: str = required(nullable=False)
    economic_class: Optional[str] = pa.Field(nullable=True)
    # the function of government (COFOG division '01'..'10'), where the source gives one
    cofog_division: Optional[str] = pa.Field(nullable=True)
    channel: Optional[str] = pa.Field(nullable=True, isin=list(CHANNELS))
    phase: str = required(nullable=False, isin=list(PHASES))
    amount: float = required(nullable=False, bound=AMOUNT_BOUND)
    currency: str = required(nullable=False, str_length={"min_value": 3, "max_value": 3})

    @pa.dataframe_check(name="fee_revenue_line")
    def fee_revenue_line(cls, data) -> pl.LazyFrame:
        """A fee revenue line (economic_class `fee_revenue`) is money one service took in
        one channel: without its service and channel it could be credited to nothing, and
        a negative amount would be a refund booked as a fee (marts read it as a fee, never
        as a cost: stg_ledger_entries.is_revenue)."""
        names = data.lazyframe.collect_schema().names()
        if "economic_class" not in names:
            return data.lazyframe.select(pl.lit(True))
        is_fee = pl.col("economic_class").str.strip_chars().str.to_lowercase() == FEE_REVENUE_CLASS
        has = [
            pl.col(c).is_not_null() & (pl.col(c).cast(pl.String).str.strip_chars() != "")
            for c in ("service_id", "channel")
            if c in names
        ]
        valid = pl.all_horizontal(has) if len(has) == 2 else pl.lit(False)
        return data.lazyframe.select(is_fee.is_null() | ~is_fee | (valid & (pl.col("amount") >= 0)).fill_null(False))


class ServiceTransactionModel(_Lenient):
    entry_id: str = required(nullable=False)
    fiscal_year: pl.Int32 = required(nullable=False)
    service_id: str = required(nullable=False)
    channel: str = required(nullable=False, isin=list(CHANNELS))
    # application (a transaction), or an interaction that is not one:
    # phone_enquiry, website_visit
    kind: str = required(nullable=False, isin=list(TRANSACTION_KINDS))
    volume: Optional[float] = plausible(COUNT_BOUND, nullable=True, ge=0)  # null = not reported
    # why a volume is null, as the source says: not_applicable (the channel cannot be
    # used: none is the true figure), not_collected (no data: unknown), blank; or reported
    volume_status: Optional[str] = pa.Field(nullable=True, isin=list(VOLUME_STATUSES))


class ServiceStandardResultModel(_Lenient):
    result_id: str = required(nullable=False)
    fiscal_year: pl.Int32 = required(nullable=False)
    service_id: str = required(nullable=False)
    standard_id: str = required(nullable=False)
    standard_name: Optional[str] = pa.Field(nullable=True)
    standard_type: Optional[str] = pa.Field(nullable=True)
    channel: Optional[str] = pa.Field(nullable=True)
    # share of volume that must meet the standard, 0..1
    target: Optional[float] = pa.Field(nullable=True, ge=0, le=1)
    volume_meeting_target: Optional[float] = plausible(COUNT_BOUND, nullable=True, ge=0)
    total_volume: Optional[float] = plausible(COUNT_BOUND, nullable=True, ge=0)


class WaitObservationModel(_Lenient):
    observation_id: str = required(nullable=False)
    site_id: str = required(nullable=False)
    site_name: Optional[str] = pa.Field(nullable=True)
    region: Optional[str] = pa.Field(nullable=True)
    # the queue or service category the feed names
    service_id: Optional[str] = pa.Field(nullable=True)
    observed_at: dt.datetime = required(nullable=False)
    # what the figure is: estimated, actual, appointment, walk_in
    wait_kind: str = required(nullable=False, isin=list(WAIT_KINDS))
    # null when the feed gives none (site closed)
    wait_minutes: Optional[float] = plausible(WAIT_MINUTES_BOUND, nullable=True, ge=0)
    customers_waiting: Optional[pl.Int64] = plausible(COUNT_BOUND, nullable=True, ge=0)
    customers_served: Optional[pl.Int64] = plausible(COUNT_BOUND, nullable=True, ge=0)
    open_counters: Optional[pl.Int64] = plausible(COUNT_BOUND, nullable=True, ge=0)
    mean_service_minutes: Optional[float] = plausible(WAIT_MINUTES_BOUND, nullable=True, ge=0)


class WebTrafficDailyModel(_Lenient):
    row_id: str = required(nullable=False)
    # the site or agency the analytics cover
    property: str = required(nullable=False)
    # the export the row came from (users, devices, ...)
    report: str = required(nullable=False)
    # the day, or the last day of a rolling window
    day: dt.datetime = required(nullable=False)
    # 1 for a day, 30 for a 30-day window
    period_days: Optional[pl.Int32] = pa.Field(nullable=True, ge=1)
    # device, channel_group, landing_page, domain, answer
    dimension: Optional[str] = pa.Field(nullable=True)
    dimension_value: Optional[str] = pa.Field(nullable=True)
    # the channel group of a row broken down by something else as well (a traffic
    # source within a channel group: google is Organic Search and Paid Search)
    channel_group: Optional[str] = pa.Field(nullable=True)
    service_id: Optional[str] = pa.Field(nullable=True)
    visits: Optional[pl.Int64] = plausible(COUNT_BOUND, nullable=True, ge=0)
    users: Optional[pl.Int64] = plausible(COUNT_BOUND, nullable=True, ge=0)
    avg_session_seconds: Optional[float] = plausible(86400 * 366, nullable=True, ge=0)
    # share 0..1
    bounce_rate: Optional[float] = pa.Field(nullable=True, ge=0, le=1)
    # share 0..1
    engagement_rate: Optional[float] = pa.Field(nullable=True, ge=0, le=1)
    # event counts (answers to "was this page helpful")
    events: Optional[pl.Int64] = plausible(COUNT_BOUND, nullable=True, ge=0)


class KpiObservationModel(_Lenient):
    observation_id: str = required(nullable=False)
    # who published the figure (uk_opg, au_dta, ...)
    publisher: str = required(nullable=False)
    # the publisher's service key
    service_id: str = required(nullable=False)
    service_name: Optional[str] = pa.Field(nullable=True)
    # user_satisfaction, digital_take_up, completion_rate, cost_per_transaction,
    # uptime, transactions, or satisfaction_responses (with the level as dimension);
    # indicator for any other published figure (its name as dimension)
    kpi: str = required(nullable=False, isin=list(KPIS))
    dimension: Optional[str] = pa.Field(nullable=True)
    channel: Optional[str] = pa.Field(nullable=True)
    period_start: dt.datetime = required(nullable=False)
    # month, week, quarter, year
    period: Optional[str] = pa.Field(nullable=True, isin=["day", "week", "month", "quarter", "year"])
    # null where the publisher marks it not available
    value: Optional[float] = plausible(AMOUNT_BOUND, nullable=True)
    # percent, count, currency code
    unit: Optional[str] = pa.Field(nullable=True)


class SurveyAnswerModel(_Lenient):
    # feeds build it from the respondent (`<respondent_key>/<question_id>`): as personal
    answer_id: str = personal(pseudonym("survey_answer"), must_deliver=True, nullable=False)
    survey_id: str = required(nullable=False)
    respondent_key: str = personal(pseudonym("respondent"), must_deliver=True, nullable=False)
    question_id: str = required(nullable=False)
    question_text: Optional[str] = pa.Field(nullable=True)
    # null when the question is about no one service
    service_id: Optional[str] = pa.Field(nullable=True)
    responded_at: dt.datetime = required(nullable=False)
    # 1..5; null when the answer is "don't know" or blank
    score: Optional[pl.Int32] = pa.Field(nullable=True, in_range={"min_value": 1, "max_value": 5})
    dont_know: Optional[bool] = pa.Field(nullable=True)
    weight: Optional[float] = plausible(1e9, nullable=True, ge=0)
    # e.g. the respondent's ZIP code
    area: Optional[str] = pa.Field(nullable=True)
