"""Build the whole site: home, one page per service, plan, published KPIs, open data."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from report.charts import channel_mix_spec, has_trend, plan_spec, trend_family_spec, workload_spec
from report.data_use import PAGE as DATA_USE_PAGE
from report.data_use import TITLE as DATA_USE_TITLE
from report.data_use import data_use_page
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
    chain_head_html,
    figure,
    format_value,
    html_table,
    marts_tables,
    missing_table,
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
        (r["service_id"], r["service_name"], r["measure"], r.get("status_reason") or "no reason recorded")
        for r in scorecard_newest.rows
        if r.get("actual") is None
    ]
    years = {r["fiscal_year"] for r in scorecard_newest.rows}
    return Freshness(
        [(t, str(r["finished_at"]), int(r["loaded"] or 0)) for t, r in sorted(last.items())],
        missing,
        max(years) if years else None,
    )


def _home(score: Table, year: int) -> str:
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


class NoScorecard(ValueError):
    """The marts hold no scorecard row (a lake refreshed only over years without data)."""


@dataclass(frozen=True)
class Section:
    """A part of every service page: the rows of one mart (optionally only some), some columns."""

    mart: str
    title: str
    columns: tuple[str, ...]
    units: dict = field(default_factory=dict)
    only_rows_with: str | None = None  # show only the rows where this column has a value (not false)
    skip_if_empty: bool = False  # no heading and no table for a service without rows


SECTIONS: tuple[Section, ...] = (
    Section(
        "service_channel_kpis",
        "Channel mix and cost per transaction by channel",
        (
            "fiscal_year",
            "channel",
            "transactions",
            "digital_take_up",
            "completion_rate",
            "cost",
            "cost_per_transaction",
            SATISFACTION_COLUMN,
            "cost_basis",
        ),
    ),
    Section(
        "service_channel_kpis",
        "Waits: mean, 90th percentile and share within the wait standard",
        (
            "fiscal_year",
            "channel",
            "waits_measured",
            "mean_wait_minutes",
            "median_wait_minutes",
            "p90_wait_minutes",
            "target_wait_minutes",
            "share_within_wait_standard",
        ),
        {"waits_measured": "waits", "share_within_wait_standard": "share"},
        only_rows_with="waits_measured",
    ),
    Section(
        "perceived_vs_measured",
        "Waits: perceived against measured",
        (
            "fiscal_year",
            "perceived_wait_responses",
            "perceived_mean_wait_minutes",
            "measured_mean_wait_minutes",
            "wait_perception_gap_minutes",
            "perceived_within_standard_share",
            "measured_within_standard_share",
        ),
        {"perceived_wait_responses": "responses"},
    ),
    Section(
        "service_standard_performance",
        "Service standards: share of the volume within the standard's target",
        (
            "fiscal_year",
            "standard_name",
            "standard_type",
            "channel",
            "target",
            "volume_meeting_target",
            "total_volume",
            "performance",
            "is_target_met",
            "source",
        ),
        {"target": "share", "performance": "share"},
    ),
    Section(
        "service_requests_summary",
        "3-1-1 requests and time to close",
        (
            "fiscal_year",
            "agency",
            "channel",
            "requests",
            "closed",
            "median_days_to_close",
            "p90_days_to_close",
            "target_days_to_complete",
            "within_sla_share",
            "backlog_at_year_end",
            "source",
        ),
        {"closed": "requests", "backlog_at_year_end": "requests"},
    ),
    Section(
        "cost_per_outcome",
        "Cost per unit of outcome",
        (
            "fiscal_year",
            "outcome",
            "outcome_unit",
            "cost_channel",
            "cost",
            "cost_change",
            "outcome_value",
            "outcome_improvement",
            "improvement_unit",
            "cost_per_unit_improvement",
            "null_reason",
        ),
        {"cost_change": "currency units", "cost_per_unit_improvement": "currency units"},
    ),
)
# The measures of issue 16, each shown only where the service has rows.
MEASURE_SECTIONS = (
    Section(
        "time_to_complete",
        "Time to complete: median and 90th percentile against the service standard",
        (
            "fiscal_year",
            "channel",
            "source",
            "agency",
            "completions_measured",
            "completions_without_duration",
            "median_minutes",
            "p90_minutes",
            "median_service_minutes",
            "p90_service_minutes",
            "median_days",
            "p90_days",
            "target_days_to_complete",
            "is_median_within_target",
        ),
        {
            "completions_measured": "completions",
            "completions_without_duration": "completions",
            "median_days": "days",
            "p90_days": "days",
        },
        skip_if_empty=True,
    ),
    Section(
        "online_funnel",
        "Online funnel: sessions reaching each step and the share lost there",
        ("fiscal_year", "step", "sessions_reached", "sessions_lost", "lost_share"),
        {"sessions_reached": "sessions", "sessions_lost": "sessions"},
        skip_if_empty=True,
    ),
    Section(
        "request_workload",
        "3-1-1 surge weeks: weekly requests far above the service's own history",
        (
            "fiscal_year",
            "source",
            "week_of_year",
            "week_start",
            "requests",
            "baseline_requests",
            "robust_z",
            "repeat_requests",
            "repeat_share",
        ),
        {"baseline_requests": "requests", "repeat_requests": "requests"},
        only_rows_with="is_surge",
        skip_if_empty=True,
    ),
    Section(
        "request_hot_spots",
        "3-1-1 hot spots: areas with far more requests than the service's mean per area",
        (
            "fiscal_year",
            "source",
            "area",
            "requests",
            "share_of_service_requests",
            "area_rank",
            "mean_requests_per_area",
            "repeat_requests",
            "repeat_share",
        ),
        {"mean_requests_per_area": "requests", "repeat_requests": "requests", "share_of_service_requests": "share"},
        only_rows_with="is_hot_spot",
        skip_if_empty=True,
    ),
    Section(
        "plan_vs_actual",
        "Plan against actual: the adopted plan for the year beside what the year had",
        (
            "fiscal_year",
            "scenario",
            "plan_base_fiscal_year",
            "planned_volume",
            "actual_volume",
            "volume_error_pct",
            "planned_digital_take_up",
            "actual_digital_take_up",
            "channel_mix_error_points",
            "planned_cost",
            "actual_cost",
            "cost_error",
            "cost_error_pct",
        ),
        {
            "planned_volume": "transactions",
            "actual_volume": "transactions",
            "planned_digital_take_up": "share",
            "actual_digital_take_up": "share",
            "channel_mix_error_points": "points",
            "planned_cost": "currency units",
            "actual_cost": "currency units",
            "cost_error": "currency units",
        },
        skip_if_empty=True,
    ),
)
SECTIONS = SECTIONS + MEASURE_SECTIONS
# How a mart's rows of one service and year are ordered on its page (after service, year).
ROW_ORDER = {
    "time_to_complete": "channel, source, agency",
    "online_funnel": "step_order",
    "request_workload": "source, week_of_year",
    "request_hot_spots": "source, area_rank, area",
}
WORKLOAD_COLUMNS = ["fiscal_year", "source", "week_of_year", "requests", "baseline_requests", "robust_z", "is_surge"]
SCORE_COLUMNS = ["fiscal_year", "measure", "actual", "target", "status", "status_reason"]


def by_service(rows: list[dict]) -> dict[str, list[dict]]:
    """Rows grouped by service_id, in their order: one query per mart serves every page."""
    out: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        out[r["service_id"]].append(r)
    return out


def read_sections(con) -> dict[str, dict[str, list[dict]]]:
    """{mart: {service_id: rows}} for every mart the service pages show, read once per build."""
    present = set(marts_tables(con))
    out = {}
    for mart in dict.fromkeys(s.mart for s in SECTIONS):
        if mart in present:
            order = ", ".join(["service_id", "fiscal_year", *([ROW_ORDER[mart]] if mart in ROW_ORDER else [])])
            out[mart] = by_service(_query(con, f"select * from marts.{mart} order by {order}").rows)  # noqa: S608
    return out


def shown_rows(section: Section, rows: list[dict]) -> list[dict]:
    """The rows of a section a page shows: those with a value (not false) in only_rows_with."""
    if not section.only_rows_with:
        return rows
    return [r for r in rows if r.get(section.only_rows_with) is not None and r.get(section.only_rows_with) is not False]


def _workload_figure(rows: list[dict]) -> str:
    """The newest year's weekly 3-1-1 requests against their baseline, surge weeks marked."""
    year = max(r["fiscal_year"] for r in rows)
    weeks = [r for r in rows if r["fiscal_year"] == year]
    title = f"3-1-1 requests per week against the same week of earlier years, FY{year}"
    return figure(workload_spec(weeks, title), title, Table(list(weeks[0]), weeks), WORKLOAD_COLUMNS)


def _families(score_rows: list[dict]) -> dict[str, dict[str, list[dict]]]:
    """{perspective: {measure: rows by fiscal year}} of one service's scorecard."""
    out: dict[str, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for r in score_rows:
        out[r["perspective"] or "other"][r["measure"]].append(r)
    return out


def _family_part(perspective: str, measures: dict[str, list[dict]]) -> str:
    """One KPI family: a chart of the measures with a trend (data as its table), else a table."""
    rows = [r for m in sorted(measures) for r in measures[m]]
    table = Table(SCORE_COLUMNS, rows)
    caption = f"{perspective}: each measure by fiscal year, actual and target"
    trends = [(m, measures[m][0].get("unit") or "", measures[m]) for m in sorted(measures) if has_trend(measures[m])]
    if not trends:
        return f"<h3>{_e(perspective)}</h3>" + html_table(table, caption)
    return f"<h3>{_e(perspective)}</h3>" + figure(trend_family_spec(caption, trends), caption, table, SCORE_COLUMNS)


def _service_page(sid: str, score_rows: list[dict], sections: dict, explanations: dict) -> str:
    parts = ["<h2>Each measure over the years, against its target</h2>"]
    for perspective, measures in sorted(_families(score_rows).items()):
        parts.append(_family_part(perspective, measures))
    exp = Table(
        ["fiscal_year", "measure", "actual", "target", "explanation"],
        [
            {**r, "explanation": explanations.get((sid, r["measure"], int(r["fiscal_year"])), NO_EXPLANATION)}
            for r in score_rows
            if r["status"] == "missed"
        ],
    )
    parts.append("<h2>Missed targets and the service's explanation</h2>")
    parts.append(html_table(exp, "Every missed target and its explanation"))
    for section in SECTIONS:
        if section.mart not in sections:
            continue
        every = sections[section.mart].get(sid, [])
        rows = shown_rows(section, every)
        if section.mart == "request_workload" and every:
            parts.append("<h2>3-1-1 weekly workload</h2>" + _workload_figure(every))
        if section.skip_if_empty and not rows:
            continue
        t = Table(list(rows[0]) if rows else list(section.columns), rows)
        parts.append(f"<h2>{_e(section.title)}</h2>")
        parts.append(html_table(t, f"{section.title} (marts.{section.mart})", section.columns, section.units))
        if (
            section.mart == "service_channel_kpis"
            and section.only_rows_with is None
            and has_trend([r for r in rows if r.get("transactions")], "transactions")  # zeros are no mix
        ):
            title = "Channel mix: transactions by channel and fiscal year"
            parts.append(figure(channel_mix_spec(rows), title, t, ["fiscal_year", "channel", "transactions"]))
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
    cols = ["scenario", "scenario_description", "forecast_volume", "plan_digital_take_up", "total_cost"]
    cols += ["savings_vs_baseline", "savings_vs_baseline_pct"]
    return (
        f"<p>Next fiscal year's cost (FY{_e(year)}) per scenario, and what online adoption saves "
        "against the baseline.</p>"
        + figure(plan_spec(totals.rows), f"Total cost per scenario, FY{year}", totals, cols, PLAN_UNITS)
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


def _about_page(fresh: Freshness) -> str:
    return (
        "<p>Every figure of this site is computed by the pipeline from the sources it loaded: raw "
        "files and feeds are loaded into the lake (each load a line of the load ledger), checked by "
        "the data contracts, and turned into the marts by dbt; the site and the open data are "
        "written from the marts by the same refresh, so they are never older than the marts.</p>"
        '<h2 id="chain">Checking that the history was not rewritten</h2>'
        "<p>The load ledger is a hash chain: each entry's hash covers the load (its counts, times, "
        "code version, the Iceberg snapshots it made and the SHA-256 of every file it wrote or read) "
        "and the previous entry's hash, so no entry can be edited, removed or reordered unnoticed.</p>"
        f"{chain_head_html(fresh.chain_head)}"
        '<p>How personal data is protected and which figures use it: <a href="data-use.html">'
        "how personal data is used</a>.</p>"
        '<h2 id="missing">Measures with no data, and why</h2>'
        f"{missing_table(fresh.missing, fresh.year)}"
    )


def build_site(
    duckdb_path: Path,
    out_dir: Path,
    loads: list[dict],
    explanations: dict,
    manifest_path: Path | None = None,
    generated_at: str | None = None,
    chain_head: tuple[int, str] | None = None,
) -> list[Path]:
    """Write the site and the open-data package under `out_dir`; returns the pages written.

    Each mart is read once (rows grouped by service in Python) and each page is written as
    soon as it is made, so the build grows with the number of services, not its square."""
    out_dir = Path(out_dir)
    (out_dir / "service").mkdir(parents=True, exist_ok=True)
    stamp = generated_at or datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    con = _open_marts(duckdb_path)
    try:
        scorecard = _query(con, "select * from marts.scorecard order by service_id, measure, fiscal_year")
        if not scorecard.rows:
            raise NoScorecard("the marts hold no scorecard: run `civic refresh` first")
        # the newest year anything is scored in (a forward plan's years hold no actuals)
        scored = [r["fiscal_year"] for r in scorecard.rows if r["status"] is not None]
        newest = max(scored or [r["fiscal_year"] for r in scorecard.rows])
        score = Table(
            scorecard.columns,
            sorted(
                (r for r in scorecard.rows if r["fiscal_year"] == newest),
                key=lambda r: (str(r["service_name"]), r["measure"]),
            ),
        )
        fresh = freshness_from_loads(loads, score)
        fresh.chain_head = chain_head
        sections = read_sections(con)
        written = []

        def write(rel: str, title: str, body: str, service_id: str | None = None) -> None:
            path = out_dir / rel
            path.write_text(page(title, body, fresh, rel.count("/"), stamp, service_id), encoding="utf-8")
            written.append(path)

        write("index.html", f"Public service scorecard, FY{newest}", _home(score, newest))
        names = {r["service_id"]: r["service_name"] for r in score.rows}
        for sid, rows in by_service(scorecard.rows).items():
            if sid in names:  # a service of the newest year (the home page links to it)
                body = _service_page(sid, rows, sections, explanations)
                write(f"service/{slug(sid)}.html", str(names[sid]), body, sid)
        write("plan.html", "Budget plan", _plan_page(con))
        write("published.html", "Published KPIs beside our recomputation", _published_page(con))
        write("about.html", "About the data", _about_page(fresh))
        write(DATA_USE_PAGE, DATA_USE_TITLE, data_use_page(con))
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
