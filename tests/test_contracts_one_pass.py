"""The one-pass contract (contracts.one_pass) keeps and rejects exactly the rows pandera's
own `schema.validate(lazy=True)` would, with the same rule, column and message: on every
bad file of the corpus and on batches with a planted row for every rule."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandera.polars as pa
import polars as pl
import pytest

from contracts.entities import (
    FEED_REJECTED,
    LEDGER_ENTRIES,
    QUEUE_EVENTS,
    SERVICE_REQUESTS,
    SURVEY_RESPONSES,
    WEB_SESSIONS,
    entity,
)
from contracts.errors import ContractError
from contracts.one_pass import failure_cases
from contracts.rules import LoadContext, schema_for
from contracts.seen_ids import SeenIds
from contracts.validate import _RULE_ORDER, BatchValidator, pandera_failures
from ingestion.errors import SourceFileError
from ingestion.pseudonymise import protect
from ingestion.staging import file_batches
from tests.bad_files.cases import CASES, Case


def _both(ent, batches, **ctx) -> list[tuple[object, object]]:
    """Each batch through a one-pass validator and a reference one (same context): their
    (valid, rejects), or the ContractError message, per batch."""
    out = []
    validators = [BatchValidator(ent, _ctx(**ctx), one_pass=flag) for flag in (True, False)]
    for batch in batches:
        pair = []
        for validator in validators:
            try:
                pair.append(validator.validate(batch))
            except ContractError as err:
                pair.append(str(err))
        out.append(tuple(pair))
    return out


def _ctx(other_years: list[str] | None = None, **kwargs) -> LoadContext:
    """A fresh context (each validator keeps its own seen ids)."""
    if other_years is not None:
        held = SeenIds()
        held.add(pl.Series(other_years))
        kwargs["other_years_ids"] = held
    return LoadContext(**kwargs)


def _assert_same(pairs) -> set[str]:
    """The two paths agree batch by batch; the rules the rejects carry."""
    rules: set[str] = set()
    for one, ref in pairs:
        if isinstance(ref, str):
            assert one == ref
            continue
        assert not isinstance(one, str), one
        assert one[0].equals(ref[0]), "valid rows differ"
        assert one[1].equals(ref[1]), (one[1], ref[1])
        rules |= set(ref[1]["rule"].to_list())
    return rules


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_one_pass_equals_pandera_on_every_bad_file(case: Case, tmp_path: Path):
    path = tmp_path / case.filename
    path.write_bytes(case.content)
    spec = entity(case.entity)
    frames = []
    try:
        for _path, batch in file_batches(spec, [path]):
            frames.append(protect(pl.from_arrow(batch), spec, None))  # type: ignore[arg-type]
    except SourceFileError:
        assert case.refused  # the reader refuses it; the batches read before still compare
    services = frozenset({"S1"})
    pairs = _both(
        spec, frames, fiscal_year=2024, known_services=services, time_zone=case.time_zone, epoch_unit=case.epoch_unit
    )
    rules = _assert_same(pairs)
    if case.rule and not case.refused:
        assert case.rule in rules


def _queue_batches() -> list[pl.DataFrame]:
    rows = [
        # (ticket_id, service_id, issued_at, called_at, completed_at, outcome, _rejected)
        ("T1", "S1", "2024-02-01T09:00:00", "2024-02-01T09:10:00", "2024-02-01T09:20:00", "served", None),
        ("T2", "S1", "2024-02-01T09:05:00", None, None, "no_show", None),
        ("T3", "S999", "2024-02-01T09:05:00", None, None, "served", None),  # known_service
        ("T4", "S1", "1999-02-01T09:05:00", None, None, "served", None),  # in_fiscal_year
        ("T5", "S1", "2024-02-01T09:05:00", "2024-02-01T09:00:00", None, "served", None),  # called_after_issued
        ("T6", "S1", "2024-02-01T09:05:00", "2024-02-01T09:10:00", "2024-02-01T09:06:00", "served", None),
        ("T7", "S1", "2024-02-01T09:05:00", None, None, "exploded", None),  # isin
        (None, "S1", "2024-02-01T09:05:00", None, None, "served", None),  # not_nullable
        ("T1", "S1", "2024-02-01T09:05:00", None, None, "served", None),  # unique_id (in the batch)
        ("T8", "S1", "yesterday", None, None, "served", None),  # type, then not_nullable
        ("T9", "S1", "03/04/2024 10:00", None, None, "served", None),  # ambiguous_date
        ("T10", "S1", "2024-02-01T09:05:00", None, None, "served", "bad quoting"),  # source_rejected
        ("T11", None, "2024-02-01T09:05:00", "2024-01-01T00:00:00", None, "served", None),  # two rules at once
        ("HELD", "S1", "2024-02-01T09:05:00", None, None, "served", None),  # unique_across_years
        ("T12", "S999", "1999-02-01T09:05:00", None, None, "exploded", None),  # three, one reported
    ]
    first = pl.DataFrame(
        rows,
        schema=["ticket_id", "service_id", "issued_at", "called_at", "completed_at", "outcome", FEED_REJECTED],
        orient="row",
    )
    second = first.with_columns(pl.col("ticket_id").str.replace("T1$", "T13"))  # T2.. repeat batch one's ids
    return [first, second, first.drop(FEED_REJECTED).head(3)]


def test_one_pass_equals_pandera_with_a_row_for_every_rule():
    for known in (frozenset({"S1"}), frozenset()):  # known_service, then no_services_catalogue
        pairs = _both(QUEUE_EVENTS, _queue_batches(), fiscal_year=2024, known_services=known, other_years=["HELD"])
        rules = _assert_same(pairs)
        service_rule = "known_service" if known else "no_services_catalogue"
        expected = {"source_rejected", "type", "ambiguous_date", "not_nullable", "unique_id", "unique_across_years"}
        expected |= {"in_fiscal_year", service_rule}
        if known:  # without a catalogue every row naming a service is rejected for that first
            expected |= {"called_after_issued", "completed_after_called", "isin"}
        assert rules >= expected, expected - rules
    # a load spanning years (no window, no catalogue) and its own years' ids
    assert _assert_same(_both(QUEUE_EVENTS, _queue_batches(), fiscal_year=None))


def test_one_pass_equals_pandera_on_the_other_entities_rules():
    web = pl.DataFrame(
        {
            "session_id": ["W1", "W2", "W3", "W4", "W5", "W6"],
            "service_id": ["S1"] * 6,
            "started_at": ["2024-05-01T10:00:00"] * 6,
            "ended_at": ["2024-05-01T10:05:00", "2024-05-01T09:00:00", None, None, None, None],
            "completed": ["true", "false", "maybe", "true", "true", "true"],
            "fee_amount": ["10", "1", "2", "inf", "1e15", "-3"],  # not_finite, plausible_bound, ge
        }
    )
    requests = pl.DataFrame(
        {
            "request_id": ["R1", "R2", "R3", "R4"],
            "service_id": ["S1"] * 4,
            "channel": ["online", "pigeon", "phone", "phone"],
            "requested_at": ["2024-05-01T10:00:00"] * 4,
            "closed_at": [None, None, "2024-04-01T10:00:00", "2024-05-01T10:00:00+02:00"],
            "status": ["open", "open", "closed", "lost"],
        }
    )
    survey = pl.DataFrame(
        {
            "response_id": ["R1", "R2", "R3", "R4"],
            "service_id": ["S1"] * 4,
            "channel": ["online", "online", "pigeon", None],
            "responded_at": ["2024-05-01T10:00:00", "2024-05-01T10:00:00-05:00", "2024-05-01T10:00:00", "1714557600"],
            "satisfaction": ["5", None, "7", "1"],
            "nps": ["3", "11", "0", "2.5"],
        }
    )
    ledger = pl.DataFrame(
        {
            "entry_id": ["E1", "E2", "E3", "E4", "E5", "E6"],
            "fiscal_year": ["2024", "2023", "2024", "2024", "2024", "2024"],
            "service_id": ["S1", "S1", None, "S1", "S1", "S1"],
            "cost_centre": ["CC1"] * 6,
            "economic_class": ["fee_revenue"] * 3 + ["operating"] * 3,
            "channel": ["phone", "phone", "phone", "pigeon", None, None],
            "phase": ["executed", "executed", "executed", "executed", "dreamt", "executed"],
            "amount": ["10", "1", "2", "3", "4", "5"],
            "currency": ["CAD", "CAD", "CAD", "CAD", "CAD", "DOLLARS"],
        }
    )
    cases = [
        (
            WEB_SESSIONS,
            web,
            {"ended_after_started", "type", "not_finite", "plausible_bound", "greater_than_or_equal_to"},
        ),
        (SERVICE_REQUESTS, requests, {"isin", "closed_after_requested"}),
        (SURVEY_RESPONSES, survey, {"in_range", "isin", "type"}),
        (LEDGER_ENTRIES, ledger, {"in_fiscal_year", "fee_revenue_line", "isin", "str_length"}),
    ]
    for ent, batch, expected in cases:
        rules = _assert_same(_both(ent, [batch], fiscal_year=2024, known_services=frozenset({"S1"})))
        assert rules >= expected, (ent.name, expected - rules, rules)


def test_a_rule_added_to_the_contract_order_needs_a_planted_row_here():
    """_RULE_ORDER's rules are all planted above (mixed_offsets and undeclared_epoch by
    the bad-file corpus): a new one fails this until it is."""
    planted = {"source_rejected", "type", "not_finite", "ambiguous_date", "mixed_offsets", "undeclared_epoch"}
    planted |= {"not_nullable", "plausible_bound", "unique_id", "unique_across_years", "in_fiscal_year"}
    planted |= {"known_service", "no_services_catalogue"}
    assert planted == set(_RULE_ORDER)


def _typed_queue() -> pl.DataFrame:
    at = dt.datetime(2024, 5, 1, 10)
    return pl.DataFrame(
        {
            "ticket_id": ["T1", "T1", None, "T4"],
            "site_id": [None] * 4,
            "service_id": ["S1", "S2", "S1", "S1"],
            "issued_at": [at, at, at, dt.datetime(1999, 1, 1)],
            "called_at": [at, at - dt.timedelta(hours=1), None, None],
            "completed_at": [None] * 4,
            "outcome": ["served", "served", "lost", "served"],
            "device_id": [None] * 4,
            "fiscal_year": [2024] * 4,
        },
        schema_overrides={"site_id": pl.String, "completed_at": pl.Datetime("us"), "device_id": pl.String},
    ).with_columns(pl.col("fiscal_year").cast(pl.Int32))


def test_the_one_pass_gives_pandera_s_own_failure_cases_in_its_order():
    """Not a fallback: the one pass answers, with the cases (row, check, column, value)
    pandera's SchemaErrors carries, in the same order."""
    ctx = LoadContext(2024, known_services=frozenset({"S1"}))
    schema, frame = schema_for(QUEUE_EVENTS, ctx), _typed_queue()
    ours = failure_cases(schema, frame)
    assert ours is not None and ours.height >= 5
    reference = pandera_failures("queue_events", schema, frame, one_pass=False)
    assert reference is not None
    columns = ["index", "check", "schema_context", "column", "failure_case"]
    assert ours.select(columns).equals(reference.select(columns).with_columns(pl.col("index").cast(pl.Int64)))


def _raises(data) -> pl.LazyFrame:
    raise RuntimeError("no such thing")


@pytest.mark.parametrize(
    "check",
    [
        pa.Check(_raises, name="raises"),  # a check that cannot run: table-level
        pa.Check(lambda data: False, name="whole_frame"),  # one boolean for the frame
        pa.Check(lambda x: x != "b", element_wise=True, name="element_wise"),
        pa.Check(lambda data: data.lazyframe.select(pl.col(data.key) != "b"), ignore_na=False, name="na_fails"),
        pa.Check(lambda data: data.lazyframe.select(pl.col(data.key) != "b"), raise_warning=True, name="warns"),
        pa.Check.str_length(1, 1),
    ],
    ids=lambda c: c.name,
)
def test_checks_the_one_pass_cannot_answer_are_left_to_pandera(check):
    schema = pa.DataFrameSchema({"a": pa.Column(str, nullable=True, checks=[check]), "n": pa.Column(float)})
    frame = pl.DataFrame({"a": ["a", "b", None, "cc"], "n": [1.0, float("nan"), 2.0, None]})
    results: list[pl.DataFrame | None | str] = []
    for one_pass in (True, False):
        try:
            results.append(pandera_failures("t", schema, frame, one_pass=one_pass))
        except Exception as err:  # pandera's own error included (it cannot report a bool check)
            results.append(f"{type(err).__name__}: {err}")
    one, ref = results
    if isinstance(ref, pl.DataFrame):
        assert isinstance(one, pl.DataFrame)
        columns = ["index", "check", "column", "failure_case"]
        assert one.select(columns).equals(ref.select(columns).with_columns(pl.col("index").cast(pl.Int64)))
    else:
        assert one == ref


@pytest.mark.parametrize("settings", [{"validation_enabled": False}, {"validation_depth": "SCHEMA_ONLY"}])
def test_pandera_settings_that_skip_data_checks_skip_them_on_the_one_pass_too(settings):
    from pandera.config import config_context

    ctx = LoadContext(2024, known_services=frozenset({"S1"}))
    schema, frame = schema_for(QUEUE_EVENTS, ctx), _typed_queue()
    with config_context(**settings):
        assert pandera_failures("queue_events", schema, frame) is None
        assert pandera_failures("queue_events", schema, frame, one_pass=False) is None
