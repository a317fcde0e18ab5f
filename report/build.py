"""Build the whole site: home, one page per service, plan, published KPIs, open data."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import altair as alt

from report.explanations import NO_EXPLANATION
from report.open_data import write_open_data
from report.site import (
    SATISFACTION_COLUMN,
    STATUSES,
    Freshness,
    Table,
    _e,
    _open_marts,
    _query,
    figure,
    format_value,
    html_table,
    marts_tables,
    page,
    slug,
)


def freshness_from_loads(loads: list[dict], scorecard_newest: Table) -> Freshness:
    """Last load per source table (from `raw.loads` rows) and the measures without data."""
    last: dict[str, dict] = {}
    for row in loads:
        t = row["table_name"]
        if t not in last or (row["finished_at"] or datetime.min) > (last[t]["finished_at"] or datetime.min):
            last[t] = row
    missing = [
        (r["service_name"], r["measure"], r.get("status_reason") or "no reason recorded")
        for r in scorecard_newest.rows
        if r.get("actual") is None
    ]
    return Freshness(
        [(t, str(r["finished_at"]), int(r["loaded"] or 0)) for t, r in sorted(last.items())],
        missing,
    )


def _home(score: Table, summary: Table, year: int) -> str:
    by_service: dict[str, dict] = defaultdict(lambda: {s: defaultdict(int) for s in STATUSES})
    names = {}
    perspectives: set[str] = set()
    for r in score.rows:
        names[r["service_id"]] = r["service_name"]
        if r["status"] in STATUSES:
            by_service[r["service_id"]][r["status"]][r["perspective"]] += 1
            perspectives.add(r["perspective"])
    rows = []
    for sid in sorted(names):
        cells = "".join(
            "<td>" + ", ".join(f"{by_service[sid][s][p]} {s}" for s in STATUSES if by_service[sid][s][p]) + "</td>"
            for p in sorted(perspectives)
        )
        rows.append(f'<tr><th scope="row"><a href="service/{slug(sid)}.html">{_e(names[sid])}</a></th>{cells}</tr>')
    head = "".join(f'<th scope="col">{_e(p)}</th>' for p in sorted(perspectives))
    status = (
        f"<table><caption>Scorecard status per perspective, FY{year}</caption>"
        f'<thead><tr><th scope="col">service</th>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
    )
    headline = Table(score.columns, [r for r in score.rows])
    return (
        f"<p>How each public service performed in fiscal year {year} against its targets, "
        "good news and bad, refreshed by the pipeline itself.</p>"
        f"<h2>Status</h2>{status}"
        "<h2>Headline figures and change since last year</h2>"
        + html_table(
            headline,
            f"Every scored measure, FY{year}",
            ["service_name", "measure", "unit", "actual", "target", "status", "prior_actual", "actual_change"],
        )
    )


def _trend_chart(rows: list[dict], measure: str, unit: str) -> alt.Chart:
    data = [{"fiscal year": str(r["fiscal_year"]), "series": "actual", "value": r["actual"]} for r in rows]
    data += [{"fiscal year": str(r["fiscal_year"]), "series": "target", "value": r["target"]} for r in rows]
    data = [d for d in data if d["value"] is not None]
    return (
        alt.Chart(alt.Data(values=data), title=f"{measure} ({unit})")
        .mark_line(point=True)
        .encode(
            x=alt.X("fiscal year:O", title="Fiscal year"),
            y=alt.Y("value:Q", title=f"{measure} ({unit})", axis=alt.Axis(format="%" if unit == "fraction" else "~s")),
            color=alt.Color("series:N", title="Series"),
            strokeDash=alt.StrokeDash("series:N", title="Series"),
        )
        .properties(width=420, height=180)
    )


def _service_page(con, sid: str, name: str, explanations: dict, newest: int) -> str:
    score = _query(con, "select * from marts.scorecard where service_id = ? order by measure, fiscal_year", [sid])
    parts = ["<h2>Each measure over the years, against its target</h2>"]
    measures: dict[str, list[dict]] = defaultdict(list)
    for r in score.rows:
        measures[r["measure"]].append(r)
    for measure, rows in measures.items():
        unit = rows[0].get("unit") or ""
        parts.append(
            figure(
                _trend_chart(rows, measure, unit),
                f"{measure} ({unit}) by fiscal year, actual and target",
                Table(score.columns, rows),
                ["fiscal_year", "actual", "target", "status", "status_reason"],
            )
        )
    missed = [r for r in score.rows if r["status"] == "missed"]
    exp = Table(
        ["fiscal_year", "measure", "actual", "target", "explanation"],
        [
            {
                **r,
                "explanation": explanations.get((sid, r["measure"], int(r["fiscal_year"])), NO_EXPLANATION),
            }
            for r in missed
        ],
    )
    parts.append("<h2>Missed targets and the service's explanation</h2>")
    parts.append(html_table(exp, "Every missed target and its explanation"))
    sections = (
        ("service_channel_kpis", "Channel mix and cost per transaction by channel"),
        ("perceived_vs_measured", "Waits: perceived against measured"),
        ("service_standard_performance", "Waits against the service standard"),
        ("service_requests_summary", "3-1-1 requests and time to close"),
        ("cost_per_outcome", "Cost per unit of outcome"),
    )
    tables = set(marts_tables(con))
    for mart, title in sections:
        if mart not in tables:
            continue
        t = _query(con, f"select * from marts.{mart} where service_id = ? order by fiscal_year", [sid])  # noqa: S608
        parts.append(f"<h2>{_e(title)}</h2>")
        shown = [c for c in t.columns if c not in ("service_id", "service_name", "agency", "priority_area")]
        parts.append(html_table(t, f"{title} (marts.{mart})", shown))
        if mart == "service_channel_kpis" and t.rows:
            newest_rows = [r for r in t.rows if r["fiscal_year"] == newest and r.get("transactions")]
            chart = (
                alt.Chart(
                    alt.Data(
                        values=[{"channel": r["channel"], "transactions": r["transactions"]} for r in newest_rows]
                    ),
                    title=f"Transactions by channel, FY{newest}",
                )
                .mark_bar()
                .encode(x=alt.X("transactions:Q", title="Transactions (count)"), y=alt.Y("channel:N", title="Channel"))
                .properties(width=420, height=140)
            )
            parts.append(
                figure(
                    chart,
                    f"Channel mix: transactions by channel, FY{newest}",
                    Table(t.columns, newest_rows),
                    ["channel", "transactions", "cost_per_transaction", SATISFACTION_COLUMN],
                )
            )
    return "".join(parts)


PLAN_UNITS = {
    "forecast_volume": "transactions",
    "plan_digital_take_up": "fraction",
    "total_cost": "currency units",
    "savings_vs_baseline": "currency units",
    "savings_vs_baseline_pct": "pct",
}


def _plan_page(con) -> str:
    totals = _query(con, "select * from marts.budget_plan_totals order by scenario_order")
    if not totals.rows:
        return "<p>No budget plan: the marts hold no plan yet (no scenarios or no base year).</p>"
    year = totals.rows[0]["plan_year"]
    chart = (
        alt.Chart(
            alt.Data(values=[{"scenario": r["scenario"], "cost": r["total_cost"]} for r in totals.rows]),
            title=f"Total cost per scenario, FY{year}",
        )
        .mark_bar()
        .encode(
            x=alt.X("cost:Q", title="Total cost (currency units)"),
            y=alt.Y("scenario:N", title="Scenario", sort=None),
        )
        .properties(width=420, height=30 * len(totals.rows))
    )
    cols = ["scenario", "scenario_description", "forecast_volume", "plan_digital_take_up", "total_cost"]
    cols += ["savings_vs_baseline", "savings_vs_baseline_pct"]
    return (
        f"<p>Next fiscal year's cost (FY{_e(year)}) per scenario, and what online adoption saves "
        "against the baseline.</p>"
        + figure(chart, f"Total cost per scenario, FY{year}", totals, cols)
        + html_table(totals, f"Budget plan per scenario, FY{year}", cols, PLAN_UNITS)
    )


def _published_page(con) -> str:
    t = _query(con, "select * from marts.published_kpis order by fiscal_year, publisher, service_id, kpi")
    cols = ["fiscal_year", "publisher", "service_name", "kpi", "unit", "published_value", "computed_value"]
    cols += ["difference", "source"]
    return (
        "<p>KPIs the government published, beside our recomputation from the raw data where both exist, "
        "with the difference.</p>" + html_table(t, "Published KPIs against the recomputation", cols)
    )


def build_site(
    duckdb_path: Path,
    out_dir: Path,
    loads: list[dict],
    explanations: dict,
    manifest_path: Path | None = None,
    generated_at: str | None = None,
) -> list[Path]:
    """Write the site and the open-data package under `out_dir`; returns the pages written."""
    out_dir = Path(out_dir)
    (out_dir / "service").mkdir(parents=True, exist_ok=True)
    stamp = generated_at or datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    con = _open_marts(duckdb_path)
    try:
        years = [r[0] for r in con.execute("select distinct fiscal_year from marts.scorecard order by 1").fetchall()]
        if not years:
            raise ValueError("the marts hold no scorecard: run `civic refresh` first")
        newest = years[-1]
        score = _query(
            con, "select * from marts.scorecard where fiscal_year = ? order by service_name, measure", [newest]
        )
        summary = _query(con, "select * from marts.scorecard_summary where fiscal_year = ?", [newest])
        fresh = freshness_from_loads(loads, score)
        written = []

        def write(rel: str, title: str, body: str) -> None:
            path = out_dir / rel
            path.write_text(page(title, body, fresh, rel.count("/"), stamp), encoding="utf-8")
            written.append(path)

        write("index.html", f"Public service scorecard, FY{newest}", _home(score, summary, newest))
        services = sorted({(r["service_id"], r["service_name"]) for r in score.rows})
        for sid, name in services:
            write(f"service/{slug(sid)}.html", str(name), _service_page(con, sid, name, explanations, newest))
        write("plan.html", "Budget plan", _plan_page(con))
        write("published.html", "Published KPIs beside our recomputation", _published_page(con))
        files = write_open_data(con, out_dir / "data", manifest_path)
        links = "".join(f'<li><a href="data/{_e(f)}">{_e(f)}</a></li>' for f in files)
        write(
            "data.html",
            "Open data",
            "<p>Every mart, every fiscal year, as CSV, Parquet and JSON, at the marts' aggregate grain "
            "(no personal data), with a Frictionless data package, the licence and SHA-256 checksums.</p>"
            f"<ul>{links}</ul>",
        )
        return written
    finally:
        con.close()


__all__ = ["build_site", "format_value", "freshness_from_loads"]
