"""Render query results for a terminal, a CSV consumer or a JSON consumer.

Mart values come from source files, so they are untrusted text: the table view shows
control characters as escapes (an ESC sequence cannot drive the terminal), and CSV
cells that a spreadsheet would run as a formula (=, +, -, @, tab, CR) get a leading
apostrophe. JSON escapes control characters by itself."""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import json
import re

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def visible(text: str) -> str:
    """`text` with control characters (and newlines) shown as escapes, for a terminal."""
    text = text.replace("\n", "\\n")
    return _CONTROL.sub(
        lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}", text
    )


def spreadsheet_safe(value):
    """A CSV cell a spreadsheet shows as text, never runs as a formula."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _cell(value, column: str = "") -> str:
    if value is None:
        return ""
    if isinstance(value, int) and (column.endswith("_id") or column.endswith("year")):
        return str(value)  # identifiers and years read without thousands separators
    if isinstance(value, float):
        return f"{value:,.4f}".rstrip("0").rstrip(".") if abs(value) < 1 else f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return visible(str(value))


def render(columns: list[str], rows: list[tuple], fmt: str = "table") -> str:
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow([spreadsheet_safe(c) for c in columns])
        writer.writerows([spreadsheet_safe(v) for v in row] for row in rows)
        return out.getvalue()
    if fmt == "json":

        def default(v):
            if isinstance(v, (dt.date, dt.datetime)):
                return v.isoformat()
            if isinstance(v, decimal.Decimal):
                return float(v)
            return str(v)

        return json.dumps([dict(zip(columns, r)) for r in rows], default=default, indent=1)
    if fmt != "table":
        raise ValueError(f"unknown format {fmt!r} (table, csv, json)")
    columns = [visible(c) for c in columns]
    cells = [[_cell(v, c) for v, c in zip(r, columns)] for r in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    numeric = [
        all(isinstance(r[i], (int, float, decimal.Decimal)) or r[i] is None for r in rows) for i in range(len(columns))
    ]

    def line(values):
        return "  ".join(v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric)).rstrip()

    out = [line(columns), line(["-" * w for w in widths])]
    out += [line(r) for r in cells]
    out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(out)
