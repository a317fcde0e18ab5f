"""The site's charts: Vega-Lite specifications, rendered to inline SVG offline by vl-convert.

Specs are written as Vega-Lite dicts rather than built with Altair: Altair's schema
validation and serialisation cost more per chart than vl-convert's rendering, and a site
of 1,800 services draws thousands of charts. tests/test_report_charts.py validates every
spec builder's output against the Vega-Lite schema (through Altair) instead.

Each vl-convert call costs ~40 ms before it draws anything, so a service gets one chart
per KPI family (its measures stacked in one spec) and only where a trend exists: a
measure with one fiscal year of data is a table row, not a chart.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from decimal import Decimal

import vl_convert

VEGA_LITE_SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
WIDTH = 420


def _json_value(value):
    return float(value) if isinstance(value, Decimal) else str(value)


def chart_svg(spec: dict) -> str:
    """Render a Vega-Lite spec to inline SVG offline (vl-convert bundles Vega)."""
    svg = vl_convert.vegalite_to_svg(json.dumps(spec, default=_json_value))
    return re.sub(r"^<\?xml[^>]*>\s*", "", svg)


def _axis_format(unit: str) -> str:
    return "%" if unit in ("fraction", "share") else "~s"


def has_trend(rows: Iterable[dict], value: str = "actual") -> bool:
    """Whether the rows give `value` for more than one fiscal year (a line, not a dot)."""
    return len({r["fiscal_year"] for r in rows if r.get(value) is not None}) > 1


def trend_family_spec(title: str, measures: list[tuple[str, str, list[dict]]]) -> dict:
    """One chart per KPI family: a line per measure (actual and target by fiscal year),
    stacked; `measures` holds (measure, unit, scorecard rows)."""
    panels = []
    for measure, unit, rows in measures:
        values = [
            {"fiscal year": str(r["fiscal_year"]), "series": series, "value": r[series]}
            for r in rows
            for series in ("actual", "target")
            if r.get(series) is not None
        ]
        label = f"{measure} ({unit})" if unit else measure
        panels.append(
            {
                "title": label,
                "data": {"values": values},
                "mark": {"type": "line", "point": True},
                "encoding": {
                    "x": {"field": "fiscal year", "type": "ordinal", "title": "Fiscal year"},
                    "y": {
                        "field": "value",
                        "type": "quantitative",
                        "title": label,
                        "axis": {"format": _axis_format(unit)},
                    },
                    "color": {"field": "series", "type": "nominal", "title": "Series"},
                    "strokeDash": {"field": "series", "type": "nominal", "title": "Series"},
                },
                "width": WIDTH,
                "height": 150,
            }
        )
    return {"$schema": VEGA_LITE_SCHEMA, "title": title, "vconcat": panels}


def channel_mix_spec(rows: list[dict]) -> dict:
    """Transactions per channel in each fiscal year (service_channel_kpis rows)."""
    values = [
        {"fiscal year": str(r["fiscal_year"]), "channel": r["channel"], "transactions": r["transactions"]}
        for r in rows
        if r.get("transactions")
    ]
    return {
        "$schema": VEGA_LITE_SCHEMA,
        "title": "Transactions by channel and fiscal year",
        "data": {"values": values},
        "mark": "bar",
        "encoding": {
            "y": {"field": "fiscal year", "type": "ordinal", "title": "Fiscal year"},
            "x": {
                "field": "transactions",
                "type": "quantitative",
                "title": "Transactions (count)",
                "stack": "zero",
                "axis": {"format": "~s"},
            },
            "color": {"field": "channel", "type": "nominal", "title": "Channel"},
        },
        "width": WIDTH,
        "height": 22 * len({v["fiscal year"] for v in values}),
    }


def plan_spec(rows: list[dict]) -> dict:
    """Next year's total cost per scenario (budget_plan_totals rows)."""
    year = rows[0]["plan_year"] if rows else ""
    return {
        "$schema": VEGA_LITE_SCHEMA,
        "title": f"Total cost per scenario, FY{year}",
        "data": {"values": [{"scenario": r["scenario"], "cost": r["total_cost"]} for r in rows]},
        "mark": "bar",
        "encoding": {
            "x": {"field": "cost", "type": "quantitative", "title": "Total cost (currency units)"},
            "y": {"field": "scenario", "type": "nominal", "title": "Scenario", "sort": None},
        },
        "width": WIDTH,
        "height": 30 * len(rows),
    }


def workload_spec(rows: list[dict], title: str) -> dict:
    """3-1-1 requests per week of one fiscal year beside the same week's mean in earlier
    years (request_workload rows of one service and year), surge weeks as red points;
    one line per feed when several feed the service."""
    sources = {r["source"] for r in rows}

    def series(name: str, r: dict) -> str:
        return f"{name} ({r['source']})" if len(sources) > 1 else name

    lines = [
        {"week": r["week_of_year"], "series": series(name, r), "requests": r[column]}
        for r in rows
        for name, column in (("requests", "requests"), ("earlier years' mean", "baseline_requests"))
        if r.get(column) is not None
    ]
    surges = [{"week": r["week_of_year"], "requests": r["requests"]} for r in rows if r.get("is_surge")]
    x = {"field": "week", "type": "quantitative", "title": "Week of the fiscal year"}
    y = {"field": "requests", "type": "quantitative", "title": "Requests per week (count)", "axis": {"format": "~s"}}
    layers: list[dict] = [
        {
            "data": {"values": lines},
            "mark": "line",
            "encoding": {"x": x, "y": y, "color": {"field": "series", "type": "nominal", "title": "Series"}},
        }
    ]
    if surges:  # an empty mark layer would be an unlabelled graphics symbol (axe: svg-img-alt)
        layers.append(
            {
                "data": {"values": surges},
                "mark": {"type": "point", "filled": True, "size": 70, "color": "#b10e1e", "description": "surge week"},
                "encoding": {"x": x, "y": y},
            }
        )
    return {"$schema": VEGA_LITE_SCHEMA, "title": title, "layer": layers, "width": WIDTH, "height": 150}
