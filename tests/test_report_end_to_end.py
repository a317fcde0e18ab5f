"""The scorecard site `civic demo` leaves under $CIVIC_HOME/report, checked against the marts.

The figures are compared with the marts queried here directly (not through report/), the
open-data package is validated by frictionless, and the plan exports are read back."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from pathlib import Path
from urllib.parse import unquote, urlparse

import duckdb
import openpyxl
import pytest
from conftest import use_home
from frictionless import validate
from site_pages import (
    CHANNEL_FIGURES,
    FUNNEL_FIGURES,
    HOT_SPOT_FIGURES,
    REQUEST_FIGURES,
    SURGE_FIGURES,
    TIME_FIGURES,
    WAIT_FIGURES,
    assert_section_equals_mart,
    close_to_shown,
    parse,
    service_pages,
    workload_figures,
)

from orchestration.cli import main


@pytest.fixture(scope="module")
def site(demo_build):
    home, _, output = demo_build
    root = home / "report"
    assert (root / "index.html").exists(), "civic demo left no site under $CIVIC_HOME/report"
    assert "Scorecard site and open data" in output
    yield home, root, _Marts(home / "lakehouse.duckdb")


class _Marts:
    """Queries the marts directly, one connection per query (so no lock is held meanwhile)."""

    def __init__(self, path: Path):
        self.path = path

    def execute(self, sql: str, params: list | None = None) -> _Result:
        con = duckdb.connect(str(self.path), read_only=True)
        try:
            return _Result(con.execute(sql, params or []).fetchall())
        finally:
            con.close()


class _Result:
    def __init__(self, rows: list[tuple]):
        self.rows = rows

    def fetchall(self) -> list[tuple]:
        return self.rows

    def fetchone(self) -> tuple:
        return self.rows[0]


def test_every_link_of_every_page_reaches_a_file_and_none_leaves_the_site(site):
    _, root, _ = site
    pages = sorted(root.rglob("*.html"))
    assert len(pages) >= 5
    for page in pages:
        for href in parse(page).links:
            assert not re.match(r"^[a-z]+://|^//", href), f"{page.name} links outside the site: {href}"
            assert (page.parent / href.split("#")[0]).resolve().exists(), f"broken link {href} on {page}"
        text = page.read_text()
        assert not re.search(r"""(?:href|src)\s*=\s*["']?(?:[a-z]+:)?//|url\(|@import""", text), page


def test_home_figures_equal_the_scorecard_mart(site):
    _, root, con = site
    year = con.execute("select max(fiscal_year) from marts.scorecard").fetchone()[0]
    mart = {
        (r[0], r[1]): r[2:]
        for r in con.execute(
            "select service_name, measure, actual, target, prior_actual, unit, status from marts.scorecard"
            " where fiscal_year = ?",
            [year],
        ).fetchall()
    }
    rows = parse(root / "index.html").tables[f"Every scored measure, FY{year}"]
    assert len(rows) == len(mart)
    for r in rows:
        actual, target, prior, unit, status = mart[(r["service_name"], r["measure"])]
        assert close_to_shown(r["actual"], actual, unit), (r, actual)
        assert close_to_shown(r["target"], target, unit), (r, target)
        assert close_to_shown(r["prior_actual"], prior, unit), (r, prior)
        assert r["status"] == (status or "no data")


def test_plan_page_totals_equal_the_plan_mart(site):
    _, root, con = site
    totals = dict(con.execute("select scenario, total_cost from marts.budget_plan_totals").fetchall())
    tables = parse(root / "plan.html").tables
    rows = next(v for k, v in tables.items() if k.startswith("Budget plan per scenario"))
    assert {r["scenario"] for r in rows} == set(totals)
    for r in rows:
        assert close_to_shown(r["total_cost"], totals[r["scenario"]], ""), r


def _mart_rows(con, mart: str) -> dict[str, list[dict]]:
    """Every row of a mart as dicts, by service name, read here (not through report/)."""
    db = duckdb.connect(str(con.path), read_only=True)
    try:
        cur = db.execute(
            f"select m.*, s.service_name as page_name from marts.{mart} m join"  # noqa: S608
            " (select distinct service_id, service_name from marts.scorecard"
            "  where fiscal_year = (select max(fiscal_year) from marts.scorecard)) s using (service_id)"
        )
        cols = [d[0] for d in cur.description]
        out: dict[str, list[dict]] = {}
        for values in cur.fetchall():
            row = dict(zip(cols, values))
            out.setdefault(row["page_name"], []).append(row)
        return out
    finally:
        db.close()


@pytest.mark.parametrize("figures", [CHANNEL_FIGURES, WAIT_FIGURES, REQUEST_FIGURES], ids=lambda f: f[1].split(":")[0])
def test_service_page_figures_equal_the_marts(site, figures):
    """Channel mix and cost per transaction by channel, waits (mean, p90, share within the
    standard) and 3-1-1 requests and time to close: every row of the mart for every service
    with a page, on that page with the same figures."""
    _, root, con = site
    pages = service_pages(root)
    rows = _mart_rows(con, figures[0])
    assert rows, f"the demo has no {figures[0]} rows"
    compared = sum(assert_section_equals_mart(pages[name], rows.get(name, []), figures) for name in pages)
    assert compared >= 10, compared


@pytest.mark.parametrize(
    "figures", [TIME_FIGURES, FUNNEL_FIGURES, SURGE_FIGURES, HOT_SPOT_FIGURES], ids=lambda f: f[1].split(":")[0]
)
def test_service_pages_show_the_new_measures_as_the_marts_have_them(site, figures):
    """Time to complete, the online funnel, the 3-1-1 surge weeks and hot spots: every
    row of the mart a section shows is on the service's page with the same figures, and a
    service without rows has no such section (the clinic has no funnel)."""
    _, root, con = site
    pages = service_pages(root)
    rows = _mart_rows(con, figures[0])
    assert rows, f"the demo has no {figures[0]} rows"
    compared = sum(assert_section_equals_mart(pages[name], rows.get(name, []), figures) for name in pages)
    assert compared >= 3, compared
    for name, page in pages.items():
        shown = [r for r in rows.get(name, []) if figures[4] is None or r[figures[4]]]
        assert (figures[1] in page.tables) == bool(shown), (name, figures[1])


def test_service_pages_chart_the_weekly_3_1_1_workload_of_the_newest_year(site):
    _, root, con = site
    pages = service_pages(root)
    rows = _mart_rows(con, "request_workload")
    charted = 0
    for name, page in pages.items():
        mine = rows.get(name, [])
        if not mine:
            assert not any(k.startswith("3-1-1 requests per week") for k in page.tables), name
            continue
        year = max(r["fiscal_year"] for r in mine)
        newest = [r for r in mine if r["fiscal_year"] == year]
        assert len(newest) >= 52
        charted += assert_section_equals_mart(page, newest, workload_figures(year)) > 0
    assert charted >= 3, charted


def test_every_page_shows_the_chain_head_civic_verify_checks(site, monkeypatch, capsys):
    """The head of the load ledger's hash chain the site was built on, on every page with
    how to verify it; `civic verify --head` (which recomputes the chain) finds it in the
    chain. Later loads (a refresh that failed in dbt, run by another module on this lake,
    appends ledger entries but publishes no site) may have moved the head on since."""
    home, root, _ = site
    use_home(monkeypatch, home)
    seq, digest = re.findall(r"entry #(\d+), <code[^>]*>([0-9a-f]{64})", (root / "index.html").read_text())[0]
    pages = [*root.glob("*.html"), *(root / "service").glob("*.html")]
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert f"entry #{seq}, <code" in text and f"civic verify --head {digest}" in text, page
    assert main(["verify", "--head", digest]) == 0
    newest = int(re.findall(r"chain head #(\d+) [0-9a-f]{64}", capsys.readouterr().out)[-1])
    assert newest >= int(seq)
    assert main(["verify", "--head", "0" * 64]) == 1  # a head the chain does not hold is refused
    capsys.readouterr()
    about = parse(root / "about.html")
    assert any(c.startswith("Measures with no data in FY") for c in about.tables), list(about.tables)


def test_missed_targets_show_the_explanation_or_say_none_was_given(site):
    _, root, con = site
    sid, name, measure, year = con.execute(
        "select service_id, service_name, measure, fiscal_year from marts.scorecard where status = 'missed'"
        " order by service_id limit 1"
    ).fetchone()
    page = next(p for p in (root / "service").glob("*.html") if f"<h1>{name}</h1>" in p.read_text())
    rows = parse(page).tables["Every missed target and its explanation"]
    row = next(r for r in rows if r["measure"] == measure and r["fiscal_year"] == str(year))
    assert row["explanation"] == "no explanation given"  # the shipped file has none


def test_every_page_says_when_sources_were_loaded(site):
    home, root, _ = site
    for page in root.rglob("*.html"):
        loads = parse(page).tables["When each source was last loaded"]
        assert {"raw.service_transactions", "service_transactions"} & {r["source table"] for r in loads}, page


def test_the_open_data_package_validates_and_its_checksums_hold(site):
    _, root, con = site
    data = root / "data"
    report = validate(str(data / "datapackage.json"))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "message"])[:5]
    for line in (data / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split("  ", 1)
        assert hashlib.sha256((data / name).read_bytes()).hexdigest() == digest, name
    marts = {
        r[0]
        for r in con.execute("select table_name from information_schema.tables where table_schema='marts'").fetchall()
    }
    assert {p.name for p in data.iterdir() if p.is_dir()} == marts  # the marts and nothing finer
    n = con.execute("select count(*) from marts.scorecard where fiscal_year = 2023").fetchone()[0]
    with (data / "scorecard" / "scorecard_fy2023.csv").open() as fh:
        assert sum(1 for _ in csv.DictReader(fh)) == n
    assert len(json.loads((data / "scorecard" / "scorecard_fy2023.json").read_text())) == n


def test_plan_exports_carry_every_row_of_the_plan_mart(site, tmp_path, monkeypatch, capsys):
    home, _, con = site
    use_home(monkeypatch, home)
    n, cols = con.execute("select count(*) from marts.budget_plan").fetchone()[0], None
    cols = [r[0] for r in con.execute("describe marts.budget_plan").fetchall()]
    assert main(["plan", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) == n and list(rows[0]) == cols  # one table: no second block to trip a reader
    last_plan_year = con.execute("select max(plan_year) - 1 from marts.budget_plan").fetchone()[0]
    sql = f"select count(*) from marts.plan_vs_actual where fiscal_year = {last_plan_year}"
    planned = con.execute(sql).fetchone()[0]
    # the errors of the last plan, a CSV of their own: a lake whose history came in one
    # refresh has no earlier plan, and says so
    assert main(["plan", "--format", "csv", "--errors"]) == (0 if planned else 1)
    captured = capsys.readouterr()
    if planned:
        errors = list(csv.DictReader(io.StringIO(captured.out)))
        assert errors[-1]["service_id"] == "TOTAL" and len(errors) == planned + 1
    else:
        assert captured.out == "" and captured.err.startswith("civic plan: no errors to show")
    assert main(["plan", "--errors"]) == 2  # a table or JSON shows the errors with the plan
    assert "--format csv" in capsys.readouterr().err
    assert main(["plan", "--format", "json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["rows"]) == n
    assert main(["plan", "--format", "xlsx"]) == 2
    assert "--out" in capsys.readouterr().err
    out = tmp_path / "plan.xlsx"
    assert main(["plan", "--format", "xlsx", "--out", str(out)]) == 0
    wb = openpyxl.load_workbook(out)
    scenarios = [
        r[0] for r in con.execute("select scenario from marts.budget_plan_totals order by scenario_order").fetchall()
    ]
    assert wb.sheetnames == [*scenarios, "totals"]
    for s in scenarios:
        sheet = list(wb[s].values)
        assert list(sheet[0]) == cols and "baseline_total_cost" in cols
        expected = con.execute("select sum(total_cost) from marts.budget_plan where scenario = ?", [s]).fetchone()[0]
        got = sum(r[cols.index("total_cost")] or 0 for r in sheet[1:])
        assert got == pytest.approx(float(expected))


SCREENS = Path(__file__).resolve().parents[2] / "notes" / "site-screens"


def test_the_site_in_headless_chromium_passes_axe_and_every_link_opens(site, tmp_path):
    """axe-core (WCAG 2.1 AA rules) on the home, one service and the plan page, with zero
    serious or critical violations; every link of those pages opens a page without errors."""
    import shutil

    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    assert chromium, "Chromium is missing: `make test` installs Debian's chromium package"
    _, root, _ = site
    service = sorted((root / "service").glob("*.html"))[0]
    pages = {"home": root / "index.html", "service": service, "plan": root / "plan.html"}
    shots = SCREENS if SCREENS.parent.is_dir() else tmp_path
    shots.mkdir(exist_ok=True)
    axe = Axe()
    failures, counts, visit = [], {}, set()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=chromium, headless=True, args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        for name, path in pages.items():
            page.goto(path.as_uri())
            page.screenshot(path=str(shots / f"{name}.png"))
            result = axe.run(page, options={"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21aa"]}})
            bad = [v for v in result.response["violations"] if v["impact"] in ("serious", "critical")]
            counts[name] = {
                i: sum(v["impact"] == i for v in result.response["violations"])
                for i in ("minor", "moderate", "serious", "critical")
            }
            failures += [f"{name}: {v['id']} ({v['impact']}): {v['help']}" for v in bad]
            visit |= set(page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)"))
        for href in sorted(visit):  # every link of those pages, opened in the browser
            target = Path(unquote(urlparse(href).path))
            assert urlparse(href).scheme == "file" and target.exists(), f"broken link {href}"
            if target.suffix == ".html":
                page.goto(href)
                assert page.locator("h1").count() == 1, href
        browser.close()
    (shots / "axe.json").write_text(json.dumps(counts, indent=1))
    assert not failures, failures
    assert not errors, errors
