"""The scorecard site's pure helpers: explanations file, formatting, freshness."""

from __future__ import annotations

from datetime import datetime

import pytest

from report.build import freshness_from_loads
from report.explanations import ExplanationsError, parse_explanations, read_explanations
from report.site import Table, format_value, html_table


def test_explanations_are_keyed_by_service_measure_and_year():
    text = """
explanations:
  - {service_id: s1, measure: m, fiscal_year: 2024, explanation: "  closed counters "}
  - {service_id: s1, measure: m, fiscal_year: 2025, explanation: staff shortage}
"""
    assert parse_explanations(text) == {("s1", "m", 2024): "closed counters", ("s1", "m", 2025): "staff shortage"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("explanations: [{service_id: s1, measure: m, fiscal_year: 2024}]", "missing explanation"),
        ("explanations: [{service_id: s1, measure: m, fiscal_year: '2024', explanation: x}]", "whole year"),
        (
            "explanations: [{service_id: s, measure: m, fiscal_year: 1, explanation: x},"
            " {service_id: s, measure: m, fiscal_year: 1, explanation: y}]",
            "second explanation",
        ),
        ("explanations: {a: 1}", "list `explanations`"),
        ("explanations: [", "not valid YAML"),
    ],
)
def test_a_malformed_explanations_file_is_refused_with_the_entry(text, message):
    with pytest.raises(ExplanationsError, match=message):
        parse_explanations(text)


def test_the_shipped_explanations_file_is_valid():
    assert isinstance(read_explanations(), dict)


def test_missing_figures_are_said_in_words_and_units_spelled_out():
    assert format_value(None, "pct") == "no data"
    assert format_value(12.345, "pct") == "12.3 %"
    assert format_value(0.5, "share") == "50.0 %"
    assert format_value(1234, "transactions") == "1,234 transactions"
    assert format_value(2.5, "USD") == "2.50 USD"


def test_tables_escape_values_and_say_when_empty():
    out = html_table(Table(["a"], [{"a": "<b>"}]), "cap")
    assert "&lt;b&gt;" in out and "<caption>cap</caption>" in out
    assert "no data" in html_table(Table(["a"], []), "cap")


def test_freshness_takes_the_newest_load_per_table_and_lists_missing_measures():
    loads = [
        {"table_name": "t", "finished_at": datetime(2025, 1, 1), "loaded": 5},
        {"table_name": "t", "finished_at": datetime(2025, 3, 1), "loaded": 7},
        {"table_name": "u", "finished_at": datetime(2024, 1, 1), "loaded": 1},
    ]
    score = Table(
        ["service_name", "measure", "actual", "status_reason"],
        [
            {"service_name": "S", "measure": "m1", "actual": None, "status_reason": "no survey this year"},
            {"service_name": "S", "measure": "m2", "actual": 3.0, "status_reason": None},
        ],
    )
    fresh = freshness_from_loads(loads, score)
    assert fresh.last_loaded == [("t", "2025-03-01 00:00:00", 7), ("u", "2024-01-01 00:00:00", 1)]
    assert fresh.missing == [("S", "m1", "no survey this year")]
