"""The canonical raw entities (docs/raw_tables.md): their model, key and event-time column.

An entity's columns are declared once, by its pandera model (`contracts.models`); the
Entity reads their types and which of them must be delivered from the model's schema.
These are the columns a contract knows; anything else a feed delivers is kept as it
arrives. `fiscal_year`, `_load_id` and `_source_file` are added at ingestion.

Personal columns (`contracts.personal`) are declared with the columns: on the model's
Field for a canonical column, in `source_personal` for a column a feed is known to
deliver beyond the model (an Open311 `lat`, a 3-1-1 export's street names).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import pandera.polars as pa
from polars._typing import PolarsDataType

from contracts import models
from contracts.models import PLAUSIBLE, REQUIRED
from contracts.personal import DROP, GRID, PERSONAL, Protection, pseudonym


@dataclass(frozen=True)
class Entity:
    name: str
    # The pandera model: the entity's columns, their types and rules (the contract of record).
    model: type[pa.DataFrameModel]
    id_column: str
    # Column whose timestamp assigns the fiscal year; None when the feed states it.
    time_column: str | None
    # Whether rows must name a service known in raw.services for the same year.
    checks_service: bool = True
    # Personal source columns beyond the model: (column, protection) pairs.
    source_personal: tuple[tuple[str, Protection], ...] = ()

    @cached_property
    def _schema(self) -> pa.DataFrameSchema:
        return self.model.to_schema()

    @cached_property
    def columns(self) -> dict[str, PolarsDataType]:
        """Column name -> polars type, in the model's order."""
        return {name: column.dtype.type for name, column in self._schema.columns.items()}

    @cached_property
    def required(self) -> tuple[str, ...]:
        """The columns a batch is refused without (`contracts.models.required`)."""
        return tuple(name for name, column in self._schema.columns.items() if (column.metadata or {}).get(REQUIRED))

    @cached_property
    def plausible_bounds(self) -> dict[str, float]:
        """Number column -> the magnitude beyond which its values are quarantined."""
        return {
            name: float(column.metadata[PLAUSIBLE])
            for name, column in self._schema.columns.items()
            if PLAUSIBLE in (column.metadata or {})
        }

    @cached_property
    def personal(self) -> dict[str, Protection]:
        """Every personal column this entity can carry -> how ingestion protects it."""
        declared = {
            name: column.metadata[PERSONAL]
            for name, column in self._schema.columns.items()
            if PERSONAL in (column.metadata or {})
        }
        return {**declared, **dict(self.source_personal)}

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
    model=models.ServiceModel,
    id_column="service_id",
    time_column=None,
    checks_service=False,
)

QUEUE_EVENTS = Entity(
    name="queue_events",
    model=models.QueueEventModel,
    id_column="ticket_id",
    time_column="issued_at",
)

WEB_SESSIONS = Entity(
    name="web_sessions",
    model=models.WebSessionModel,
    id_column="session_id",
    time_column="started_at",
)

SURVEY_RESPONSES = Entity(
    name="survey_responses",
    model=models.SurveyResponseModel,
    id_column="response_id",
    time_column="responded_at",
)

# What Open311 GeoReport v2 and NYC 3-1-1 exports deliver besides the model's columns
# (snake_case, as ingestion.feeds names them) that locates or describes a person: exact
# places are pseudonymised (an address) or coarsened (coordinates), street-level parts
# and free text are dropped. ZIP codes, boroughs and community boards are areas: kept.
_REQUEST_SOURCE_PERSONAL = (
    ("address", pseudonym("address")),
    ("address_id", pseudonym("address")),
    ("lat", GRID),
    ("long", GRID),
    ("latitude", GRID),
    ("longitude", GRID),
    ("source_location", DROP),  # NYC's "(lat, long)" text
    ("x_coordinate_state_plane", DROP),
    ("y_coordinate_state_plane", DROP),
    ("street_name", DROP),
    ("cross_street_1", DROP),
    ("cross_street_2", DROP),
    ("intersection_street_1", DROP),
    ("intersection_street_2", DROP),
    ("landmark", DROP),
    ("bbl", DROP),  # borough-block-lot: one parcel
    ("taxi_pick_up_location", DROP),
    ("description", DROP),  # the requester's own words
    ("media_url", DROP),  # a photo they took
    ("email", DROP),
    ("phone", DROP),
    ("first_name", DROP),
    ("last_name", DROP),
)

SERVICE_REQUESTS = Entity(
    name="service_requests",
    model=models.ServiceRequestModel,
    id_column="request_id",
    time_column="requested_at",
    source_personal=_REQUEST_SOURCE_PERSONAL,
)

LEDGER_ENTRIES = Entity(
    name="ledger_entries",
    model=models.LedgerEntryModel,
    id_column="entry_id",
    time_column=None,
)


# --- Aggregated entities: what published feeds deliver instead of events -----------

SERVICE_TRANSACTIONS = Entity(
    name="service_transactions",
    model=models.ServiceTransactionModel,
    id_column="entry_id",
    time_column=None,  # the feed states the fiscal year (service inventories)
    checks_service=False,
)

SERVICE_STANDARD_RESULTS = Entity(
    name="service_standard_results",
    model=models.ServiceStandardResultModel,
    id_column="result_id",
    time_column=None,
    checks_service=False,
)

WAIT_OBSERVATIONS = Entity(
    name="wait_observations",
    model=models.WaitObservationModel,
    id_column="observation_id",
    time_column="observed_at",
    checks_service=False,
)

WEB_TRAFFIC_DAILY = Entity(
    name="web_traffic_daily",
    model=models.WebTrafficDailyModel,
    id_column="row_id",
    time_column="day",
    checks_service=False,
)

KPI_OBSERVATIONS = Entity(
    name="kpi_observations",
    model=models.KpiObservationModel,
    id_column="observation_id",
    time_column="period_start",
    checks_service=False,
)

SURVEY_ANSWERS = Entity(
    name="survey_answers",
    model=models.SurveyAnswerModel,
    id_column="answer_id",
    time_column="responded_at",
    checks_service=False,
)

ENTITIES: dict[str, Entity] = {
    e.name: e
    for e in (
        SERVICES,
        QUEUE_EVENTS,
        WEB_SESSIONS,
        SURVEY_RESPONSES,
        SERVICE_REQUESTS,
        LEDGER_ENTRIES,
        SERVICE_TRANSACTIONS,
        SERVICE_STANDARD_RESULTS,
        WAIT_OBSERVATIONS,
        WEB_TRAFFIC_DAILY,
        KPI_OBSERVATIONS,
        SURVEY_ANSWERS,
    )
}

# A feed kind that cannot map a row (a fragment of a broken file) gives the reason in this
# column; the contract quarantines the row with that reason as its message.
FEED_REJECTED = "_rejected"
# A dated row's fiscal year as its publisher labels it (NYC MMR's "2023" is NYC's FY2023):
# a figure labelled with a fiscal year is filed under the year the label ends in, whatever
# the lake's fiscal calendar; any other dated row by its own date (docs/raw_tables.md).
STATED_FISCAL_YEAR = "_stated_fiscal_year"


def entity(name: str) -> Entity:
    try:
        return ENTITIES[name]
    except KeyError:
        raise KeyError(f"unknown entity {name!r}; known: {', '.join(ENTITIES)}") from None
