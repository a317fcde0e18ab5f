"""What the listing commands print (orchestration/cli/display.py): one number format per
column, booleans alike in every format, money with its currency, no blank line after CSV,
tables as wide as the terminal."""

from __future__ import annotations

import json

from orchestration.cli.display import column_format, render

COLUMNS = ["service_id", "fiscal_year", "transactions", "share", "cost", "online"]
ROWS = [("SVC-1", 2025, 123456, 0.943, 1234.5, True), ("SVC-2", 2025, 7, 1.0, -0.001, False)]


def _body(text: str) -> list[list[str]]:
    """The cells of a rendered table's rows (after the head and its rule, before the count)."""
    lines = text.splitlines()
    return [line.split() for line in lines[2:-1]]


def test_one_number_format_per_column():
    table = render(COLUMNS, ROWS, money={"cost"}, currency="CAD")
    head, rule, *_ = table.splitlines()
    assert head.split() == ["service_id", "fiscal_year", "transactions", "share", "cost", "(CAD)", "online"]
    assert set(rule) == {"─"}
    assert _body(table) == [
        ["SVC-1", "2025", "123,456", "0.943", "1,234.50", "yes"],
        ["SVC-2", "2025", "7", "1.000", "0.00", "no"],  # 1.0 beside 0.943, and no "-0.00"
    ]
    assert table.endswith("\n(2 rows)")


def test_column_formats():
    assert [column_format("x", [0.5, 1.0])(v) for v in (0.5, 1.0)] == ["0.500", "1.000"]
    assert [column_format("x", [0.5, 12.0])(v) for v in (0.5, 12.0)] == ["0.50", "12.00"]
    assert column_format("cost", [0.5], money=True)(0.5) == "0.50"
    assert column_format("savings_%", [12.345])(12.345) == "12.3"
    assert column_format("snapshot_id", [6418476942186111711])(6418476942186111711) == "6418476942186111711"
    assert column_format("rows", [6418476])(6418476) == "6,418,476"


def test_csv_and_json_agree_on_booleans_and_end_without_a_blank_line():
    text = render(COLUMNS, ROWS, "csv")
    assert text.splitlines() == [
        "service_id,fiscal_year,transactions,share,cost,online",
        "SVC-1,2025,123456,0.943,1234.5,true",
        "SVC-2,2025,7,1.0,-0.001,false",
    ]
    assert not text.endswith("\n")  # print() adds the one newline
    assert json.loads(render(COLUMNS, ROWS, "json"))[1]["online"] is False


def test_a_table_fits_the_terminal_by_folding_its_text():
    rows = [("SVC-1", "a long description of the service " * 3, 12.5)]
    table = render(["service_id", "description", "cost"], rows, width=60)
    assert max(len(line) for line in table.splitlines()) <= 60
    assert "12.50" in table  # numbers are never folded
    assert table.split().count("description") == 4  # the head and each of the three, folded at words
    # narrower than its numbers: wider than asked rather than cropped
    wide = render(["a_long_numeric_heading"] * 6, [(1,) * 6], width=40)
    assert wide.splitlines()[0].split() == ["a_long_numeric_heading"] * 6


def test_text_is_never_read_as_markup():
    table = render(["note"], [("[bold]x[/bold] :smile:",)])
    assert "[bold]x[/bold] :smile:" in table
