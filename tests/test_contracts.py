"""Contracts: valid rows pass, each bad row is rejected with its rule, table-level faults refuse the batch."""

import datetime as dt
import json

import polars as pl
import pytest

from contracts.entities import LEDGER_ENTRIES, QUEUE_EVENTS, SURVEY_RESPONSES
from contracts.errors import ContractError
from contracts.rules import LoadContext
from contracts.validate import BatchValidator


def _queue(**overrides):
    base = {
        "ticket_id": ["T1", "T2"],
        "service_id": ["S1", "S1"],
        "issued_at": ["2024-02-01T09:00:00", "2024-02-01T09:05:00"],
        "called_at": ["2024-02-01T09:10:00", None],
        "outcome": ["served", "no_show"],
    }
    base.update(overrides)
    return pl.DataFrame(base)


def _validator(entity=QUEUE_EVENTS, services=("S1",)):
    return BatchValidator(entity, LoadContext(2024, known_services=frozenset(services)))


def test_valid_rows_pass_with_types_and_fiscal_year():
    valid, rejects = _validator().validate(_queue(extra=["a", "b"]))
    assert valid.height == 2 and rejects.height == 0
    assert valid.schema["issued_at"] == pl.Datetime("us")
    assert valid["fiscal_year"].to_list() == [2024, 2024]
    assert valid["extra"].to_list() == ["a", "b"]  # extra source columns are kept


@pytest.mark.parametrize(
    "overrides, rule, column",
    [
        ({"ticket_id": ["T1", None]}, "not_nullable", "ticket_id"),
        ({"ticket_id": ["T1", "T1"]}, "unique_id", "ticket_id"),
        ({"service_id": ["S1", "S999"]}, "known_service", "service_id"),
        ({"issued_at": ["2024-02-01T09:00:00", "1999-02-01T09:05:00"]}, "in_fiscal_year", "issued_at"),
        ({"called_at": ["2024-02-01T09:10:00", "2024-01-01T00:00:00"]}, "called_after_issued", None),
        ({"called_at": ["2024-02-01T09:10:00", "yesterday"]}, "type", "called_at"),
        ({"outcome": ["served", "exploded"]}, "isin", "outcome"),
    ],
)
def test_each_bad_row_is_quarantined_with_its_rule(overrides, rule, column):
    valid, rejects = _validator().validate(_queue(**overrides))
    assert valid["ticket_id"].to_list() == ["T1"]
    assert rejects.height == 1
    got = rejects.row(0, named=True)
    assert got["rule"] == rule
    assert got["column"] == column
    assert got["message"]
    assert json.loads(got["row"])["outcome"] in ("no_show", "exploded", "served")


def test_duplicates_are_caught_across_batches_and_the_first_copy_is_kept():
    v = _validator()
    v.validate(_queue())
    valid, rejects = v.validate(_queue(ticket_id=["T2", "T3"]))
    assert valid["ticket_id"].to_list() == ["T3"]
    assert rejects["rule"].to_list() == ["unique_id"]


def test_missing_required_column_refuses_the_batch():
    with pytest.raises(ContractError, match="called_at"):
        _validator().validate(_queue().drop("called_at"))


def test_a_column_that_cannot_be_read_as_its_type_refuses_the_batch():
    with pytest.raises(ContractError, match="issued_at"):
        _validator().validate(_queue(issued_at=["monday", "tuesday"]))


def test_satisfaction_out_of_range_and_dont_know():
    batch = pl.DataFrame(
        {
            "response_id": ["R1", "R2", "R3"],
            "service_id": ["S1"] * 3,
            "responded_at": ["2024-05-01T10:00:00"] * 3,
            "satisfaction": ["5", None, "7"],
        }
    )
    valid, rejects = _validator(SURVEY_RESPONSES).validate(batch)
    assert valid["satisfaction"].to_list() == [5, None]  # don't know is kept as null
    assert rejects["rule"].to_list() == ["in_range"]


def test_ledger_rows_of_another_fiscal_year_are_quarantined():
    batch = pl.DataFrame(
        {
            "entry_id": ["E1", "E2"],
            "fiscal_year": ["2024", "2023"],
            "cost_centre": ["CC1", "CC1"],
            "phase": ["executed", "executed"],
            "amount": ["10.5", "3"],
            "currency": ["CAD", "CAD"],
        }
    )
    valid, rejects = BatchValidator(LEDGER_ENTRIES, LoadContext(2024)).validate(batch)
    assert valid["entry_id"].to_list() == ["E1"]
    assert rejects["rule"].to_list() == ["in_fiscal_year"]


def test_a_fee_revenue_line_needs_its_service_and_channel_and_a_positive_amount():
    """economic_class fee_revenue marks money taken in: kept with a service, a channel and
    an amount >= 0; each line missing one is quarantined under rule fee_revenue_line; the
    same gaps on a cost line are fine (a shared or common cost)."""
    n = 6
    batch = pl.DataFrame(
        {
            "entry_id": [f"E{i}" for i in range(1, n + 1)],
            "fiscal_year": ["2024"] * n,
            "service_id": ["S1", "S1", None, "S1", "S1", None],
            "cost_centre": ["CC1"] * n,
            "economic_class": [
                "fee_revenue",
                " Fee_Revenue ",
                "fee_revenue",
                "fee_revenue",
                "fee_revenue",
                "operating",
            ],
            "channel": ["in_person", "phone", "phone", None, "mail", None],
            "phase": ["executed"] * n,
            "amount": ["120.5", "0", "10", "10", "-5", "-3"],
            "currency": ["CAD"] * n,
        }
    )
    valid, rejects = BatchValidator(LEDGER_ENTRIES, LoadContext(2024, known_services=frozenset({"S1"}))).validate(batch)
    assert valid["entry_id"].to_list() == ["E1", "E2", "E6"]
    assert sorted(rejects["rule"].to_list()) == ["fee_revenue_line"] * 3
    assert "fee_revenue line needs a service_id" in rejects["message"][0]
    assert sorted(json.loads(r)["entry_id"] for r in rejects["row"]) == ["E3", "E4", "E5"]


def test_timestamp_text_reads_the_same_on_the_iso_fast_path_and_the_layouts():
    from contracts.coerce import _timestamps_from_layouts, _timestamps_from_text

    iso = pl.Series("t", ["2025-01-01T10:00:00", "2025-01-01 10:00:00.123", "2025-01-01T10:00", "2025-01-01", None])
    assert _timestamps_from_text(iso)[0].to_list() == _timestamps_from_layouts(iso).to_list()
    assert _timestamps_from_text(iso)[0][1] == dt.datetime(2025, 1, 1, 10, 0, 0, 123000)
    # one value Arrow's ISO cast cannot read sends the column through the layouts
    mixed = pl.Series("t", ["2025-01-01T10:00:00", "03/15/2025 02:30:00 PM", "2025-01-01T10:00:00+02:00", "nope"])
    assert _timestamps_from_text(mixed)[0].to_list() == [
        dt.datetime(2025, 1, 1, 10),
        dt.datetime(2025, 3, 15, 14, 30),
        dt.datetime(2025, 1, 1, 10),
        None,
    ]


def test_day_month_dates_are_read_in_the_declared_order_and_never_guessed():
    from contracts.coerce import coerce

    text = pl.DataFrame({"t": ["05/03/2024 10:00", "25/03/2024", "05/05/2024", None]})
    dmy, failures = coerce(text, {"t": pl.Datetime("us")}, "dmy")
    assert dmy["t"].to_list() == [dt.datetime(2024, 3, 5, 10), dt.datetime(2024, 3, 25), dt.datetime(2024, 5, 5), None]
    assert failures.height == 0
    mdy, failures = coerce(text, {"t": pl.Datetime("us")}, "mdy")
    assert mdy["t"].to_list()[0] == dt.datetime(2024, 5, 3, 10)
    assert failures["value"].to_list() == ["25/03/2024"] and failures["rule"].to_list() == ["type"]
    guessed, failures = coerce(text, {"t": pl.Datetime("us")})
    assert guessed["t"].to_list() == [None, dt.datetime(2024, 3, 25), dt.datetime(2024, 5, 5), None]
    assert failures.rows() == [(0, "ambiguous_date", "t", "05/03/2024 10:00")]
