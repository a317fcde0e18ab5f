"""Render listings for a terminal (a rich table), a CSV consumer or a JSON consumer.

One number format per column (percentages with 1 decimal; shares and rates, which stay
within 1, with 3 decimals; other decimals with 2; counts with thousands separators; identifiers and years as they
are), booleans as yes/no in a table and true/false in CSV, money with its currency in
the column head, and a table as wide as the terminal (cells wrap, never the lines).

Mart values come from source files, so they are untrusted text: the table view shows
control characters as escapes (an ESC sequence cannot drive the terminal) and never reads
them as rich markup; CSV cells that a spreadsheet would run as a formula (=, +, -, @,
tab, CR) get a leading apostrophe. JSON escapes control characters by itself."""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import json
import os
import re
import sys
from collections.abc import Collection, Sequence

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = (int, float, decimal.Decimal)


def visible(text: str) -> str:
    """`text` with control characters (and newlines) shown as escapes, for a terminal."""
    text = text.replace("\n", "\\n")
    return _CONTROL.sub(
        lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}", text
    )


def spreadsheet_safe(value):
    """A CSV cell a spreadsheet shows as text, never runs as a formula."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _is_identifier(column: str) -> bool:
    return column.endswith("_id") or column.endswith("year") or column == "id"


def column_format(column: str, values: Sequence, money: bool = False):
    """The one formatter of a column's cells: chosen from the column's name and all its
    values, so every row of a column shows the same number of decimals."""
    numbers = [v for v in values if isinstance(v, _NUMBER) and not isinstance(v, bool)]
    if column.endswith(("%", "_pct")):
        return lambda v: _fixed(v, 1)
    if money or any(not isinstance(v, int) for v in numbers):
        decimals = 3 if not money and all(abs(v) <= 1 for v in numbers) else 2
        return lambda v: _fixed(v, decimals)
    if _is_identifier(column):
        return str
    return lambda v: f"{v:,}"


def _fixed(value, decimals: int) -> str:
    text = f"{float(value):,.{decimals}f}"
    return text[1:] if text.startswith("-") and not text.strip("-0.,") else text  # no "-0.00"


def _cell(value, number_format) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, _NUMBER):
        return number_format(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    return visible(str(value))


def terminal_width() -> int:
    """$COLUMNS, else the width of the terminal stdout or (piped into a pager) stderr is
    on, else 120."""
    if os.environ.get("COLUMNS", "").isdigit():
        return int(os.environ["COLUMNS"])
    for stream in (sys.stdout, sys.stderr):
        try:
            return os.get_terminal_size(stream.fileno()).columns
        except (OSError, ValueError, AttributeError):
            continue
    return 120


def _json_default(v):
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    if isinstance(v, decimal.Decimal):
        return float(v)
    return str(v)


def render(
    columns: list[str],
    rows: list[tuple],
    fmt: str = "table",
    *,
    money: Collection[str] = (),
    currency: str | None = None,
    width: int | None = None,
    count: bool = True,
) -> str:
    """The rows in `fmt` (table, csv or json), without a trailing newline. `money`: the
    columns that are amounts, headed with `currency` in a table."""
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([spreadsheet_safe(c) for c in columns])
        writer.writerows([spreadsheet_safe(v) for v in row] for row in rows)
        return out.getvalue().rstrip("\n")
    if fmt == "json":
        return json.dumps([dict(zip(columns, r)) for r in rows], default=_json_default, indent=1)
    if fmt != "table":
        raise ValueError(f"unknown format {fmt!r} (table, csv, json)")
    return _table(columns, rows, money, currency, width, count)


def _table(columns, rows, money, currency, width, count) -> str:
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style=None)
    cells = []
    needed = 0
    for i, column in enumerate(columns):
        values = [r[i] for r in rows]
        is_money = column in money
        numeric = bool(values) and all(isinstance(v, _NUMBER) and not isinstance(v, bool) or v is None for v in values)
        number_format = column_format(column, values, is_money)
        cells.append([_cell(v, number_format) for v in values])
        head = visible(column) + (f" ({currency})" if is_money and currency else "")
        longest = max([len(c) for c in cells[-1]] + [len(head)])
        # numbers keep their width (a folded number misreads); the widest texts fold first
        needed += (longest if numeric else min(longest, 10)) + 3
        table.add_column(Text(head), justify="right" if numeric else "left", overflow="fold", no_wrap=numeric)
    for row in zip(*cells):
        table.add_row(*(Text(c) for c in row))
    console = Console(
        file=io.StringIO(),
        # narrower than its numbers and a few letters of each text, a table is not cropped:
        # its lines get longer than the terminal instead
        width=max(width or terminal_width(), needed),
        color_system=None,
        highlight=False,
        markup=False,
        emoji=False,
        soft_wrap=False,
    )
    console.print(table)
    text = "\n".join(line.rstrip() for line in console.file.getvalue().splitlines())  # type: ignore[attr-defined]
    if count:
        text += f"\n({len(rows):,} row{'s' if len(rows) != 1 else ''})"
    return text
