"""`civic quarantine`: the rejected rows and their reasons, read from quarantine.rejected_rows
(lake/quarantine.py), filtered by table, fiscal year and rule; read-only."""

from __future__ import annotations

import csv
import io
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from contracts.staged import QUARANTINE_ARROW
from lake.quarantine import read_quarantine, replace_quarantine
from orchestration.cli import main


def _rejected(entity: str, year: int, rule: str, n: int) -> list[dict]:
    return [
        {
            "entity": entity,
            "fiscal_year": year,
            "load_id": f"{entity}-{year}",
            "source": "landing",
            "source_file": f"/landing/{entity}/fy={year}/x.csv",
            "rule": rule,
            "column": "issued_at",
            "message": f"row {i}: issued_at is outside FY{year}",
            "row": json.dumps({"ticket_id": f"T{i}", "note": "=1+1"}),
        }
        for i in range(n)
    ]


@pytest.fixture
def quarantined(lake, tmp_path):
    """A lake whose quarantine holds 3 + 2 rows of queue_events (FY2024, two rules) and 4 of
    web_sessions (FY2025), committed as a load commits them."""
    _, catalog = lake
    loads = {
        ("queue_events", 2024): _rejected("queue_events", 2024, "in_fiscal_year", 3)
        + _rejected("queue_events", 2024, "not_nullable", 2),
        ("web_sessions", 2025): _rejected("web_sessions", 2025, "unique_id", 4),
    }
    for (entity, year), rows in loads.items():
        path = tmp_path / f"{entity}-{year}.parquet"
        pq.write_table(pa.Table.from_pylist(rows, schema=QUARANTINE_ARROW), path)
        replace_quarantine(catalog, entity, year, "landing", path, f"{entity}-{year}", {})
    return catalog


def _csv(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def test_every_rejected_row_with_its_reason(quarantined, capsys):
    assert main(["quarantine", "--format", "csv"]) == 0
    rows = _csv(capsys.readouterr().out)
    assert len(rows) == 9 == read_quarantine(quarantined).num_rows
    assert {(r["entity"], r["rule"]) for r in rows} == {
        ("queue_events", "in_fiscal_year"),
        ("queue_events", "not_nullable"),
        ("web_sessions", "unique_id"),
    }
    assert rows[0]["message"].endswith("is outside FY2024") and rows[0]["load_id"] == "queue_events-2024"


def test_filters(quarantined, capsys):
    assert main(["quarantine", "--table", "queue_events", "--rule", "not_nullable", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["message"] for r in rows] == ["row 0: issued_at is outside FY2024", "row 1: issued_at is outside FY2024"]
    assert main(["quarantine", "--year", "2025", "--format", "csv"]) == 0
    assert {r["entity"] for r in _csv(capsys.readouterr().out)} == {"web_sessions"}
    assert main(["quarantine", "--table", "raw.services"]) == 0  # a table with nothing rejected
    assert capsys.readouterr().out.rstrip().endswith("(0 rows)")


def test_table_view_and_limit(quarantined, capsys):
    assert main(["quarantine", "--table", "web_sessions", "--limit", "2"]) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines()[0].split() == [
        "entity",
        "fiscal_year",
        "source",
        "rule",
        "column",
        "message",
        "row",
    ]
    assert captured.out.rstrip().endswith("(2 rows)")
    assert captured.err == "shown 2 of 4 rejected rows (--limit)\n"


@pytest.mark.parametrize(
    "argv, says",
    [
        (
            ["--table", "queue_event"],
            "civic quarantine: unknown table 'raw.queue_event': did you mean raw.queue_events?",
        ),
        (
            ["--rule", "unique"],
            "civic quarantine: unknown rule 'unique': did you mean unique_id? (rules: in_fiscal_year, ",
        ),
    ],
)
def test_misspelled_names_are_refused_naming_what_exists(quarantined, capsys, argv, says):
    assert main(["quarantine", *argv]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and err.startswith(says)
