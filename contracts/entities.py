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

ENTITIES: dict[str, Entity] = {
    e.name: e
    for e in (SERVICES, QUEUE_EVENTS, WEB_SESSIONS, SURVEY_RESPONSES, SERVICE_REQUESTS, LEDGER_ENTRIES)
}

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
