"""Each entity's columns are declared once (its pandera model); the Entity derives its
columns, dtypes and required columns from it. This pins what they were when they were
declared twice, so the derivation provably changed nothing; columns added since
(volume_status, channel_group, the ledger's cofog_division) are added here too."""

from __future__ import annotations

import polars as pl

from contracts.entities import ENTITIES

# name: (id column, time column, checks_service, required, {column: dtype}) as declared
# by contracts/entities.py at b95385c.
EXPECTED = {
    "services": (
        "service_id",
        None,
        False,
        ("service_id", "name", "priority_area"),
        {
            "service_id": pl.String,
            "name": pl.String,
            "priority_area": pl.String,
            "cofog_division": pl.String,
            "agency": pl.String,
            "channels": pl.String,
            "target_wait_minutes": pl.Float64,
            "target_days_to_complete": pl.Float64,
            "fee": pl.Float64,
            "programme_id": pl.String,
        },
    ),
    "queue_events": (
        "ticket_id",
        "issued_at",
        True,
        ("ticket_id", "service_id", "issued_at", "called_at", "outcome"),
        {
            "ticket_id": pl.String,
            "site_id": pl.String,
            "service_id": pl.String,
            "issued_at": pl.Datetime(time_unit="us", time_zone=None),
            "called_at": pl.Datetime(time_unit="us", time_zone=None),
            "completed_at": pl.Datetime(time_unit="us", time_zone=None),
            "outcome": pl.String,
            "device_id": pl.String,
        },
    ),
    "web_sessions": (
        "session_id",
        "started_at",
        True,
        ("session_id", "service_id", "started_at", "completed"),
        {
            "session_id": pl.String,
            "service_id": pl.String,
            "started_at": pl.Datetime(time_unit="us", time_zone=None),
            "ended_at": pl.Datetime(time_unit="us", time_zone=None),
            "completed": pl.Boolean,
            "last_step": pl.String,
            "fee_amount": pl.Float64,
            "device_category": pl.String,
            "channel_group": pl.String,
        },
    ),
    "survey_responses": (
        "response_id",
        "responded_at",
        True,
        ("response_id", "service_id", "responded_at", "satisfaction"),
        {
            "response_id": pl.String,
            "service_id": pl.String,
            "channel": pl.String,
            "responded_at": pl.Datetime(time_unit="us", time_zone=None),
            "satisfaction": pl.Int32,
            "nps": pl.Int32,
            "perceived_wait_minutes": pl.Float64,
            "respondent_key": pl.String,
        },
    ),
    "service_requests": (
        "request_id",
        "requested_at",
        True,
        ("request_id", "service_id", "channel", "requested_at", "status"),
        {
            "request_id": pl.String,
            "service_id": pl.String,
            "channel": pl.String,
            "requested_at": pl.Datetime(time_unit="us", time_zone=None),
            "closed_at": pl.Datetime(time_unit="us", time_zone=None),
            "expected_at": pl.Datetime(time_unit="us", time_zone=None),
            "status": pl.String,
            "agency": pl.String,
            "location": pl.String,
            "area": pl.String,
        },
    ),
    "ledger_entries": (
        "entry_id",
        None,
        True,
        ("entry_id", "fiscal_year", "cost_centre", "phase", "amount", "currency"),
        {
            "entry_id": pl.String,
            "fiscal_year": pl.Int32,
            "programme_id": pl.String,
            "service_id": pl.String,
            "cost_centre": pl.String,
            "economic_class": pl.String,
            "cofog_division": pl.String,
            "channel": pl.String,
            "phase": pl.String,
            "amount": pl.Float64,
            "currency": pl.String,
        },
    ),
    "service_transactions": (
        "entry_id",
        None,
        False,
        ("entry_id", "fiscal_year", "service_id", "channel", "kind"),
        {
            "entry_id": pl.String,
            "fiscal_year": pl.Int32,
            "service_id": pl.String,
            "channel": pl.String,
            "kind": pl.String,
            "volume": pl.Float64,
            "volume_status": pl.String,
        },
    ),
    "service_standard_results": (
        "result_id",
        None,
        False,
        ("result_id", "fiscal_year", "service_id", "standard_id"),
        {
            "result_id": pl.String,
            "fiscal_year": pl.Int32,
            "service_id": pl.String,
            "standard_id": pl.String,
            "standard_name": pl.String,
            "standard_type": pl.String,
            "channel": pl.String,
            "target": pl.Float64,
            "volume_meeting_target": pl.Float64,
            "total_volume": pl.Float64,
        },
    ),
    "wait_observations": (
        "observation_id",
        "observed_at",
        False,
        ("observation_id", "site_id", "observed_at", "wait_kind"),
        {
            "observation_id": pl.String,
            "site_id": pl.String,
            "site_name": pl.String,
            "region": pl.String,
            "service_id": pl.String,
            "observed_at": pl.Datetime(time_unit="us", time_zone=None),
            "wait_kind": pl.String,
            "wait_minutes": pl.Float64,
            "customers_waiting": pl.Int64,
            "customers_served": pl.Int64,
            "open_counters": pl.Int64,
            "mean_service_minutes": pl.Float64,
        },
    ),
    "web_traffic_daily": (
        "row_id",
        "day",
        False,
        ("row_id", "property", "report", "day"),
        {
            "row_id": pl.String,
            "property": pl.String,
            "report": pl.String,
            "day": pl.Datetime(time_unit="us", time_zone=None),
            "period_days": pl.Int32,
            "dimension": pl.String,
            "dimension_value": pl.String,
            "channel_group": pl.String,
            "service_id": pl.String,
            "visits": pl.Int64,
            "users": pl.Int64,
            "avg_session_seconds": pl.Float64,
            "bounce_rate": pl.Float64,
            "engagement_rate": pl.Float64,
            "events": pl.Int64,
        },
    ),
    "kpi_observations": (
        "observation_id",
        "period_start",
        False,
        ("observation_id", "publisher", "service_id", "kpi", "period_start"),
        {
            "observation_id": pl.String,
            "publisher": pl.String,
            "service_id": pl.String,
            "service_name": pl.String,
            "kpi": pl.String,
            "dimension": pl.String,
            "channel": pl.String,
            "period_start": pl.Datetime(time_unit="us", time_zone=None),
            "period": pl.String,
            "value": pl.Float64,
            "unit": pl.String,
        },
    ),
    "survey_answers": (
        "answer_id",
        "responded_at",
        False,
        ("answer_id", "survey_id", "respondent_key", "question_id", "responded_at"),
        {
            "answer_id": pl.String,
            "survey_id": pl.String,
            "respondent_key": pl.String,
            "question_id": pl.String,
            "question_text": pl.String,
            "service_id": pl.String,
            "responded_at": pl.Datetime(time_unit="us", time_zone=None),
            "score": pl.Int32,
            "dont_know": pl.Boolean,
            "weight": pl.Float64,
            "area": pl.String,
        },
    ),
}


def test_entities_are_the_pinned_set():
    assert list(ENTITIES) == list(EXPECTED)


def test_every_entity_has_its_pinned_columns_dtypes_and_keys():
    for name, (id_column, time_column, checks_service, required, columns) in EXPECTED.items():
        ent = ENTITIES[name]
        assert ent.id_column == id_column, name
        assert ent.time_column == time_column, name
        assert ent.checks_service is checks_service, name
        assert ent.required == required, name
        assert list(ent.columns) == list(columns), name
        for column, dtype in columns.items():
            got = ent.columns[column]
            assert got == dtype and repr(got) == repr(dtype), (name, column, got, dtype)
