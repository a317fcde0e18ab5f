"""Render query results for a terminal, a CSV consumer or a JSON consumer."""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import json


def _cell(value, column: str = "") -> str:
    if value is None:
        return ""
    if isinstance(value, int) and (column.endswith("_id") or column.endswith("year")):
        return str(value)  # identifiers and years read without thousands separators
    if isinstance(value, float):
        return f"{value:,.4f}".rstrip("0").rstrip(".") if abs(value) < 1 else f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def render(columns: list[str], rows: list[tuple], fmt: str = "table") -> str:
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(columns)
        writer.writerows(rows)
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
