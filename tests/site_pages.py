"""Reading the scorecard site back: the tables of a page (by caption, cells by column) and
the figures they show, to compare with the marts queried by the test itself."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path


class _Page(HTMLParser):
    """Links and the cells of each table (caption -> rows of {column: text})."""

    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.tables: dict[str, list[dict[str, str]]] = {}
        self._caption = None
        self._in_caption = False
        self._col = None
        self._row: dict[str, str] | None = None
        self._text = ""
        self.h1 = ""
        self._in_h1 = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag == "h1":
            self._in_h1 = True
        elif tag == "caption":
            self._in_caption, self._caption = True, ""
        elif tag == "tr":
            self._row = {}
        elif tag == "td" and "data-col" in a:
            self._col, self._text = a["data-col"], ""

    def handle_endtag(self, tag):
        if tag == "h1":
            self._in_h1 = False
        elif tag == "caption":
            self._in_caption = False
            self.tables.setdefault(self._caption, [])
        elif tag == "td" and self._col is not None and self._row is not None:
            self._row[self._col] = self._text.strip()
            self._col = None
        elif tag == "tr" and self._row:
            self.tables[self._caption].append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._in_h1:
            self.h1 += data
        if self._in_caption:
            self._caption += data
        elif self._col is not None:
            self._text += data


def parse(path: Path) -> _Page:
    p = _Page()
    p.feed(path.read_text(encoding="utf-8"))
    return p


def shown_number(text: str) -> float | None:
    """The number a cell shows ("1,234.50 currency per transaction", "12.3 %"), or None for "no data"."""
    if text == "no data":
        return None
    m = re.match(r"-?[\d,]+(\.\d+)?", text)
    assert m, f"not a figure: {text!r}"
    return float(m.group(0).replace(",", ""))


def close_to_shown(text: str, value, unit: str) -> bool:
    shown = shown_number(text)
    if value is None or shown is None:
        return value is None and shown is None
    expected = float(value) * (100 if unit in ("fraction", "share") else 1)
    decimals = len(text.split(" ")[0].split(".")[1]) if "." in text.split(" ")[0] else 0
    return abs(shown - expected) <= 0.5 * 10**-decimals + 1e-9


def service_pages(root: Path) -> dict[str, _Page]:
    """The parsed service pages of a site, by the service name in their heading."""
    pages = {}
    for path in sorted((root / "service").glob("*.html")):
        p = parse(path)
        pages[p.h1] = p
    return pages


# What a service page shows of a mart: (mart, table caption, key columns, {figure column: unit},
# the column a row must have a value in to be shown). The unit is the one close_to_shown reads.
CHANNEL_FIGURES = (
    "service_channel_kpis",
    "Channel mix and cost per transaction by channel (marts.service_channel_kpis)",
    ("fiscal_year", "channel"),
    {"transactions": "", "cost": "", "cost_per_transaction": "", "digital_take_up": "share"},
    None,
)
WAIT_FIGURES = (
    "service_channel_kpis",
    "Waits: mean, 90th percentile and share within the wait standard (marts.service_channel_kpis)",
    ("fiscal_year", "channel"),
    {"waits_measured": "", "mean_wait_minutes": "", "p90_wait_minutes": "", "share_within_wait_standard": "share"},
    "waits_measured",
)
REQUEST_FIGURES = (
    "service_requests_summary",
    "3-1-1 requests and time to close (marts.service_requests_summary)",
    ("fiscal_year", "channel", "source", "agency"),
    {"requests": "", "closed": "", "median_days_to_close": "", "p90_days_to_close": "", "within_sla_share": "share"},
    None,
)


# The measures of issue 16 (report/build.py MEASURE_SECTIONS); a service without rows has no such table.
TIME_FIGURES = (
    "time_to_complete",
    "Time to complete: median and 90th percentile against the service standard (marts.time_to_complete)",
    ("fiscal_year", "channel", "source", "agency"),
    {
        "completions_measured": "",
        "median_minutes": "",
        "p90_minutes": "",
        "median_service_minutes": "",
        "median_days": "",
        "p90_days": "",
        "target_days_to_complete": "",
    },
    None,
)
FUNNEL_FIGURES = (
    "online_funnel",
    "Online funnel: sessions reaching each step and the share lost there (marts.online_funnel)",
    ("fiscal_year", "step"),
    {"sessions_reached": "", "sessions_lost": "", "lost_share": "share"},
    None,
)
SURGE_FIGURES = (
    "request_workload",
    "3-1-1 surge weeks: weekly requests far above the service's own history (marts.request_workload)",
    ("fiscal_year", "source", "week_of_year"),
    {"requests": "", "baseline_requests": "", "robust_z": "", "repeat_requests": ""},
    "is_surge",
)
HOT_SPOT_FIGURES = (
    "request_hot_spots",
    "3-1-1 hot spots: areas with far more requests than the service's mean per area (marts.request_hot_spots)",
    ("fiscal_year", "source", "area"),
    {"requests": "", "share_of_service_requests": "share", "mean_requests_per_area": "", "repeat_requests": ""},
    "is_hot_spot",
)
PLAN_ACTUAL_FIGURES = (
    "plan_vs_actual",
    "Plan against actual: the adopted plan for the year beside what the year had (marts.plan_vs_actual)",
    ("fiscal_year",),
    {
        "planned_volume": "",
        "actual_volume": "",
        "volume_error_pct": "",
        "planned_digital_take_up": "share",
        "actual_digital_take_up": "share",
        "channel_mix_error_points": "",
        "planned_cost": "",
        "actual_cost": "",
        "cost_error": "",
        "cost_error_pct": "",
    },
    None,
)


def workload_figures(year: int) -> tuple:
    """The data table of a service's weekly 3-1-1 chart: every week of the newest year."""
    return (
        "request_workload",
        f"3-1-1 requests per week against the same week of earlier years, FY{year}",
        ("fiscal_year", "source", "week_of_year"),
        {"requests": "", "baseline_requests": "", "robust_z": ""},
        None,
    )


def assert_section_equals_mart(page: _Page, mart_rows: list[dict], figures: tuple) -> int:
    """Every mart row of the service is a row of the page's table with the same figures, and
    the table has no other row; returns the number of figures compared."""
    _, caption, keys, columns, only_with = figures
    expected = [r for r in mart_rows if only_with is None or r[only_with] not in (None, False)]
    shown = page.tables.get(caption, [])  # an empty table's "no data" row has no cells by column
    assert len(shown) == len(expected), (page.h1, caption, len(shown), len(expected))
    by_key = {tuple(r[k] for k in keys): r for r in shown}
    compared = 0
    for row in expected:
        key = tuple(str(row[k]) if row[k] is not None else "no data" for k in keys)
        cells = by_key[key]
        for column, unit in columns.items():
            assert close_to_shown(cells[column], row[column], unit), (page.h1, key, column, cells[column], row[column])
            compared += row[column] is not None
    return compared
