"""Generate the public scorecard site (static HTML, no external URL) from the marts.

Reads the marts through one read-only connection (`_open_marts`, the one place to repoint
when readers move to another file). Column lists are taken from the marts themselves,
except for the columns a page displays by name, so marts can grow columns freely.
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from lake.marts_query import connect_read_only
from report.charts import chart_svg

# The satisfaction column the headline uses: one constant, as it may be renamed to a 0-1 share.
SATISFACTION_COLUMN = "satisfaction_top2_share"
STATUSES = ("met", "near", "missed")


def _open_marts(duckdb_path: Path) -> duckdb.DuckDBPyConnection:
    """The read-only connection to the marts (the only place the report opens them)."""
    return connect_read_only(duckdb_path)


@dataclass
class Table:
    """One query result: column names and rows as dicts (in column order)."""

    columns: list[str]
    rows: list[dict]


@dataclass
class Freshness:
    """When each source was last loaded, which measures have no data this year and why, and
    the load ledger's chain head the figures were built on."""

    last_loaded: list[tuple[str, str, int]] = field(default_factory=list)  # (table, finished_at, rows)
    missing: list[tuple[str, str, str, str]] = field(default_factory=list)  # (service id, name, measure, reason)
    year: int | None = None  # the newest fiscal year, the one `missing` is about
    chain_head: tuple[int, str] | None = None  # (seq, entry hash) of the newest ledger entry
    _by_service: dict[str, list[tuple[str, str, str, str]]] | None = field(default=None, repr=False, compare=False)

    def missing_of(self, service_id: str) -> list[tuple[str, str, str, str]]:
        """One service's measures without data (indexed once: a page per service must not scan them all)."""
        if self._by_service is None:
            self._by_service = {}
            for m in self.missing:
                self._by_service.setdefault(m[0], []).append(m)
        return self._by_service.get(service_id, [])


def _query(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence = ()) -> Table:
    cur = con.execute(sql, list(params))
    cols = [d[0] for d in cur.description]
    return Table(cols, [dict(zip(cols, r)) for r in cur.fetchall()])


def marts_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        "select table_name from information_schema.tables where table_schema = 'marts' order by table_name"
    ).fetchall()
    return [r[0] for r in rows]


def mart_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    rows = con.execute(
        "select column_name from information_schema.columns where table_schema = 'marts' and table_name = ?"
        " order by ordinal_position",
        [table],
    ).fetchall()
    return [r[0] for r in rows]


# --- formatting -------------------------------------------------------------------------


def format_value(value, unit: str | None = None) -> str:
    """A figure as the page shows it: missing is said in words, units are spelled out."""
    if value is None:
        return "no data"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float | int) and not isinstance(value, bool):
        u = (unit or "").lower()
        if "pct" in u or "percent" in u or u == "%":
            return f"{value:,.1f} %"
        if "share" in u or "fraction" in u:
            return f"{value * 100:,.1f} %"
        if isinstance(value, int):
            text = f"{value:,}"
        else:
            text = f"{value:,.2f}"
        return f"{text} {unit}" if unit else text
    return str(value)


# Units of mart columns by name, where the name says it (a section may say more).
_SUFFIX_UNITS = (
    ("_share", "share"),
    ("_pct", "pct"),
    ("_minutes", "minutes"),
    ("days_to_close", "days"),
    ("days_to_complete", "days"),
    ("cost_per_transaction", "currency units"),
    ("spending_per_transaction", "currency units"),
)
_NAME_UNITS = {
    "digital_take_up": "share",
    "completion_rate": "share",
    "cost": "currency units",
    "programme_spending": "currency units",
    "transactions": "transactions",
    "requests": "requests",
}


@functools.cache
def column_unit(column: str) -> str | None:
    """The unit of a mart column its name implies (`mean_wait_minutes` -> minutes), or None."""
    if column in _NAME_UNITS:
        return _NAME_UNITS[column]
    return next((unit for suffix, unit in _SUFFIX_UNITS if column.endswith(suffix)), None)


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-") or "x"


def _cell(row: dict, column: str, units: dict | None) -> str:
    value = row[column]
    if column.endswith("year") and isinstance(value, int):
        return str(value)  # FY2025, not "2,025"
    unit = (units or {}).get(column)
    if unit is None and column in ("actual", "target", "prior_actual", "actual_change"):
        unit = row.get("unit")  # the scorecard's figures are in the row's own unit
    if unit is None:
        unit = column_unit(column)
    return format_value(value, unit)


def html_table(table: Table, caption: str, columns: Iterable[str] | None = None, units: dict | None = None) -> str:
    """An accessible table (caption, header scopes); also every chart's text alternative."""
    cols = [c for c in (columns or table.columns) if c in table.columns]
    head = "".join(f'<th scope="col">{_e(c.replace("_", " "))}</th>' for c in cols)
    body = []
    for row in table.rows:
        cells = "".join(f'<td data-col="{_e(c)}">{_e(_cell(row, c, units))}</td>' for c in cols)
        body.append(f"<tr>{cells}</tr>")
    if not body:
        body.append(f'<tr><td colspan="{max(len(cols), 1)}">no data</td></tr>')
    return (
        f'<div class="table-wrap" tabindex="0" role="region" aria-label="{_e(caption)}">'
        f"<table><caption>{_e(caption)}</caption>"
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
    )


def figure(spec: dict, title: str, alt_table: Table, columns: list[str], units: dict | None = None) -> str:
    """A chart with its data as a table beside it (the text alternative)."""
    return (
        f'<figure><div role="img" aria-label="{_e(title)} (data in the table below)">{chart_svg(spec)}</div>'
        f"<figcaption>{_e(title)}</figcaption>"
        f"<details><summary>Data of this chart</summary>{html_table(alt_table, title, columns, units)}</details>"
        "</figure>"
    )


CSS = """
body{font-family:system-ui,sans-serif;margin:0;color:#1b1b1b;background:#fff;line-height:1.45}
a{color:#0b4f9c}a:focus{outline:3px solid #ffbf47}
header,main,footer{max-width:72rem;margin:0 auto;padding:0 1rem}
header{border-bottom:4px solid #0b4f9c}nav ul{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:1rem}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:1rem;background:#fff;padding:.5rem}
table{border-collapse:collapse;margin:.5rem 0 1.5rem;font-size:.9rem}
th,td{border:1px solid #888;padding:.25rem .5rem;text-align:left;vertical-align:top}
caption{text-align:left;font-weight:600;padding:.25rem 0}
.table-wrap{overflow-x:auto}
.status-met{background:#d7f0dc}.status-near{background:#fff2c2}.status-missed{background:#f9d6d5}
.freshness{border-top:1px solid #888;margin-top:2rem;font-size:.9rem}
figure{margin:1rem 0}
.hash{overflow-wrap:anywhere}
"""


VERIFY_HELP = (
    "Keep it: whoever runs <code>civic verify --head {hash}</code> on the lake later checks that "
    "the history of loads up to it was not rewritten; <code>civic verify</code> alone recomputes "
    "every ledger entry's hash and every data file's SHA-256."
)


def chain_head_html(head: tuple[int, str] | None) -> str:
    """The load ledger's chain head these figures were built on, and how to verify it."""
    if not head or not head[0]:
        return "<p>The lake has no load ledger yet: no chain head to verify.</p>"
    seq, digest = head
    return (
        f'<p>Load ledger chain head: entry #{seq}, <code class="hash">{_e(digest)}</code>. '
        + VERIFY_HELP.format(hash=_e(digest))
        + "</p>"
    )


def missing_table(missing: list[tuple[str, str, str, str]], year: int | None) -> str:
    rows = [{"service": name, "measure": m, "why no data": r} for _, name, m, r in missing]
    caption = f"Measures with no data in FY{year}, and why" if year else "Measures with no data, and why"
    return html_table(Table(["service", "measure", "why no data"], rows), caption)


NAV = (
    ("index.html", "Scorecard"),
    ("plan.html", "Budget plan"),
    ("published.html", "Published KPIs"),
    ("data.html", "Open data"),
    ("about.html", "About the data"),
    ("data-use.html", "Personal data"),
)


def page(
    title: str,
    body: str,
    freshness: Freshness,
    depth: int = 0,
    generated_at: str = "",
    service_id: str | None = None,
) -> str:
    """A whole page: navigation, content, and the freshness block every page carries.

    A service page lists its own measures without data; the others count them all and link
    to the list on the about page (one list per site, not one per page of 1,800 services)."""
    up = "../" * depth
    nav = "".join(f'<li><a href="{up}{href}">{_e(label)}</a></li>' for href, label in NAV)
    loads = Table(
        ["source table", "last loaded", "rows loaded"],
        [{"source table": t, "last loaded": f, "rows loaded": n} for t, f, n in freshness.last_loaded],
    )
    if service_id is not None:
        completeness = missing_table(freshness.missing_of(service_id), freshness.year)
    else:
        services = len({m[0] for m in freshness.missing})
        completeness = (
            f"<p>{len(freshness.missing):,} measure(s) of {services:,} service(s) have no data in "
            f'FY{_e(freshness.year)}: <a href="{up}about.html#missing">the list, with the reason for each</a>.</p>'
        )
    fresh = (
        '<section class="freshness" aria-labelledby="freshness-h"><h2 id="freshness-h">Freshness and completeness</h2>'
        f"<p>Generated by the refresh at {_e(generated_at)} from the marts. "
        "A figure shown as “no data” is missing, never zero.</p>"
        f"{chain_head_html(freshness.chain_head)}"
        f"{html_table(loads, 'When each source was last loaded')}"
        f"{completeness}</section>"
    )
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)} - civic scorecard</title><style>{CSS}</style></head><body>"
        f'<a class="skip" href="#main">Skip to content</a>'
        f'<header><p><a href="{up}index.html">Civic scorecard</a></p>'
        f'<nav aria-label="Site"><ul>{nav}</ul></nav></header>'
        f'<main id="main"><h1>{_e(title)}</h1>{body}{fresh}</main>'
        f'<footer><p>Open data under the licence in the <a href="{up}data.html">open-data package</a>.</p></footer>'
        f"</body></html>"
    )
