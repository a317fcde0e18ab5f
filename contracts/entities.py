"""The canonical raw entities (docs/raw_tables.md): column types, key and event-time column.

These are the columns a contract knows; anything else a source delivers is kept as it
arrives. `fiscal_year`, `_load_id` and `_source_file` are added at ingestion.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

TS = pl.Datetime("us")


@dataclass(frozen=True)
class Entity:
    name: str
    id_column: str
    # Column whose timestamp assigns the fiscal year; None when the source states it.
    time_column: str | None
    columns: dict[str, pl.DataType]
    required: tuple[str, ...]
    # Whether rows must name a service known in raw.services for the same year.
    checks_service: bool = True

    @property
    def is_dated(self) -> bool:
        """Rows carry their own fiscal year (an event time or a stated year); reference
        data without either is filed under the fiscal years a load covers."""
        return self.time_column is not None or "fiscal_year" in self.columns

    @property
    def service_nullable(self) -> bool:
        return self.name == "ledger_entries"


SERVICES = Entity(
    name="services",
    id_column="service_id",
    time_column=None,
    columns={
        "service_id": pl.String,
        "name": pl.String,
        "priority_area": pl.String,
        "cofog_division": pl.String,
        "agency": pl.String,
        "channels": pl.String,
        "target_wait_minutes": pl.Float64,
        "target_days_to_complete": pl.Float64,
        "fee": pl.Float64,
        # programme(s) that fund the service, `;`-separated (costs booked to a programme
        # are apportioned to its services)
        "programme_id": pl.String,
    },
    required=("service_id", "name", "priority_area"),
    checks_service=False,
)

QUEUE_EVENTS = Entity(
    name="queue_events",
    id_column="ticket_id",
    time_column="issued_at",
    columns={
        "ticket_id": pl.String,
        "site_id": pl.String,
        "service_id": pl.String,
        "issued_at": TS,
        "called_at": TS,
        "completed_at": TS,
        "outcome": pl.String,
        "device_id": pl.String,
    },
    required=("ticket_id", "service_id", "issued_at", "called_at", "outcome"),
)

WEB_SESSIONS = Entity(
    name="web_sessions",
    id_column="session_id",
    time_column="started_at",
    columns={
        "session_id": pl.String,
        "service_id": pl.String,
        "started_at": TS,
        "ended_at": TS,
        "completed": pl.Boolean,
        "last_step": pl.String,
        "fee_amount": pl.Float64,
        "device_category": pl.String,
        "channel_group": pl.String,
    },
    required=("session_id", "service_id", "started_at", "completed"),
)

SURVEY_RESPONSES = Entity(
    name="survey_responses",
    id_column="response_id",
    time_column="responded_at",
    columns={
        "response_id": pl.String,
        "service_id": pl.String,
        "channel": pl.String,
        "responded_at": TS,
        "satisfaction": pl.Int32,
        "nps": pl.Int32,
        "perceived_wait_minutes": pl.Float64,
        "respondent_key": pl.String,
    },
    required=("response_id", "service_id", "responded_at", "satisfaction"),
)

SERVICE_REQUESTS = Entity(
    name="service_requests",
    id_column="request_id",
    time_column="requested_at",
    columns={
        "request_id": pl.String,
        "service_id": pl.String,
        "channel": pl.String,
        "requested_at": TS,
        "closed_at": TS,
        "expected_at": TS,
        "status": pl.String,
        "agency": pl.String,
        "location": pl.String,
    },
    required=("request_id", "service_id", "channel", "requested_at", "status"),
)

LEDGER_ENTRIES = Entity(
    name="ledger_entries",
    id_column="entry_id",
    time_column=None,
    columns={
        "entry_id": pl.String,
        "fiscal_year": pl.Int32,
        "programme_id": pl.String,
        "service_id": pl.String,
        "cost_centre": pl.String,
        "economic_class": pl.String,
        "channel": pl.String,
        "phase": pl.String,
        "amount": pl.Float64,
        "currency": pl.String,
    },
    required=("entry_id", "fiscal_year", "cost_centre", "phase", "amount", "currency"),
)


# --- Aggregated entities: what published sources deliver instead of events ---------

SERVICE_TRANSACTIONS = Entity(
    name="service_transactions",
    id_column="entry_id",
    time_column=None,  # the source states the fiscal year (service inventories)
    columns={
        "entry_id": pl.String,
        "fiscal_year": pl.Int32,
        "service_id": pl.String,
        "channel": pl.String,
        # application (a transaction), or an interaction that is not one:
        # phone_enquiry, website_visit
        "kind": pl.String,
        "volume": pl.Float64,
    },
    required=("entry_id", "fiscal_year", "service_id", "channel", "kind"),
    checks_service=False,
)

SERVICE_STANDARD_RESULTS = Entity(
    name="service_standard_results",
    id_column="result_id",
    time_column=None,
    columns={
        "result_id": pl.String,
        "fiscal_year": pl.Int32,
        "service_id": pl.String,
        "standard_id": pl.String,
        "standard_name": pl.String,
        "standard_type": pl.String,
        "channel": pl.String,
        "target": pl.Float64,  # share of volume that must meet the standard, 0..1
        "volume_meeting_target": pl.Float64,
        "total_volume": pl.Float64,
    },
    required=("result_id", "fiscal_year", "service_id", "standard_id"),
    checks_service=False,
)

WAIT_OBSERVATIONS = Entity(
    name="wait_observations",
    id_column="observation_id",
    time_column="observed_at",
    columns={
        "observation_id": pl.String,
        "site_id": pl.String,
        "site_name": pl.String,
        "region": pl.String,
        "service_id": pl.String,  # the queue or service category the feed names
        "observed_at": TS,
        # what the figure is: estimated, actual, appointment, walk_in
        "wait_kind": pl.String,
        "wait_minutes": pl.Float64,  # null when the feed gives none (site closed)
        "customers_waiting": pl.Int64,
        "customers_served": pl.Int64,
        "open_counters": pl.Int64,
        "mean_service_minutes": pl.Float64,
    },
    required=("observation_id", "site_id", "observed_at", "wait_kind"),
    checks_service=False,
)

WEB_TRAFFIC_DAILY = Entity(
    name="web_traffic_daily",
    id_column="row_id",
    time_column="day",
    columns={
        "row_id": pl.String,
        "property": pl.String,  # the site or agency the analytics cover
        "report": pl.String,  # the export the row came from (users, devices, ...)
        "day": TS,  # the day, or the last day of a rolling window
        "period_days": pl.Int32,  # 1 for a day, 30 for a 30-day window
        "dimension": pl.String,  # device, channel_group, landing_page, domain, answer
        "dimension_value": pl.String,
        "service_id": pl.String,
        "visits": pl.Int64,
        "users": pl.Int64,
        "avg_session_seconds": pl.Float64,
        "bounce_rate": pl.Float64,  # share 0..1
        "engagement_rate": pl.Float64,  # share 0..1
        "events": pl.Int64,  # event counts (answers to "was this page helpful")
    },
    required=("row_id", "property", "report", "day"),
    checks_service=False,
)

KPI_OBSERVATIONS = Entity(
    name="kpi_observations",
    id_column="observation_id",
    time_column="period_start",
    columns={
        "observation_id": pl.String,
        "publisher": pl.String,  # who published the figure (uk_opg, au_dta, ...)
        "service_id": pl.String,  # the publisher's service key
        "service_name": pl.String,
        # user_satisfaction, digital_take_up, completion_rate, cost_per_transaction,
        # uptime, transactions, or satisfaction_responses (with the level as dimension);
        # indicator for any other published figure (its name as dimension)
        "kpi": pl.String,
        "dimension": pl.String,
        "channel": pl.String,
        "period_start": TS,
        "period": pl.String,  # month, week, quarter, year
        "value": pl.Float64,  # null where the publisher marks it not available
        "unit": pl.String,  # percent, count, currency code
    },
    required=("observation_id", "publisher", "service_id", "kpi", "period_start"),
    checks_service=False,
)

SURVEY_ANSWERS = Entity(
    name="survey_answers",
    id_column="answer_id",
    time_column="responded_at",
    columns={
        "answer_id": pl.String,
        "survey_id": pl.String,
        "respondent_key": pl.String,
        "question_id": pl.String,
        "question_text": pl.String,
        "service_id": pl.String,  # null when the question is about no one service
        "responded_at": TS,
        "score": pl.Int32,  # 1..5; null when the answer is "don't know" or blank
        "dont_know": pl.Boolean,
        "weight": pl.Float64,
        "area": pl.String,  # e.g. the respondent's ZIP code
    },
    required=("answer_id", "survey_id", "respondent_key", "question_id", "responded_at"),
    checks_service=False,
)

ENTITIES: dict[str, Entity] = {
    e.name: e
    for e in (
        SERVICES, QUEUE_EVENTS, WEB_SESSIONS, SURVEY_RESPONSES, SERVICE_REQUESTS, LEDGER_ENTRIES,
        SERVICE_TRANSACTIONS, SERVICE_STANDARD_RESULTS, WAIT_OBSERVATIONS, WEB_TRAFFIC_DAILY,
        KPI_OBSERVATIONS, SURVEY_ANSWERS,
    )
}

# A source that cannot map a row (a fragment of a broken file) gives the reason in this
# column; the contract quarantines the row with that reason as its message.
SOURCE_REJECTED = "_rejected"

TRANSACTION_KINDS = ("application", "phone_enquiry", "website_visit")
WAIT_KINDS = ("estimated", "actual", "appointment", "walk_in")
KPIS = (
    "user_satisfaction", "digital_take_up", "completion_rate", "cost_per_transaction",
    "uptime", "transactions", "satisfaction_responses",
    # any other published performance figure, named by the dimension (a dashboard's
    # device share, an MMR indicator): kept, but not one of the standard KPIs above
    "indicator",
)
CHANNELS = ("online", "mobile", "phone", "in_person", "mail", "email", "fax", "other")
PRIORITY_AREAS = (
    "health", "public_works", "education", "permits", "licences", "social", "transport", "other",
)
PHASES = ("proposed", "approved", "adjusted", "executed")


def entity(name: str) -> Entity:
    try:
        return ENTITIES[name]
    except KeyError:
        raise KeyError(f"unknown entity {name!r}; known: {', '.join(ENTITIES)}") from None
