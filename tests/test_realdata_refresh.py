"""A slice of ../shared/realdata through feeds.yml and one `civic refresh` (Dagster, dbt),
checked against figures computed here from the files themselves.

The slice: San Francisco's Open311 export (requests and catalogue, FY2012) and New York
City's 3-1-1 export (FY2014 among others), refreshed over FY2012..FY2014, next to a small
synthetic Open311 feed ("twin") whose catalogue reuses three of San Francisco's service
codes: every feed declares its namespace (`service_id_prefix`), and the expected values
apply that prefix to the codes of the files. The whole of
../shared/realdata over every year it covers is `scripts/realdata_refresh.py` (about 15
minutes: too long for the suite).
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import json
import xml.etree.ElementTree as ET
from collections import Counter

import duckdb
import pytest

from lake.catalog import open_catalog
from lake.settings import load_settings
from tests.conftest import REALDATA

pytestmark = pytest.mark.slow

SF = REALDATA / "open311_sanfrancisco"
NYC = REALDATA / "nyc_311"
YEARS = (2012, 2013, 2014)
PREFIX = {"sf": "sf:", "nyc": "nyc:", "twin": "twin:"}
# the twin town: San Francisco's codes 015, 024 and 172 for services of its own (FY2012)
TWIN_SERVICES = {"015": "Twin town: potholes", "024": "Twin town: street lights", "172": "Twin town: noise"}
TWIN_REQUESTS = ["015", "015", "015", "024", "172", "172"]


def _write_twin(folder) -> None:
    folder.mkdir(parents=True)
    services = [{"service_code": c, "service_name": n} for c, n in TWIN_SERVICES.items()]
    requests = [
        {
            "service_request_id": f"twin-{i}",
            "service_code": c,
            "status": "open",
            "requested_datetime": f"2012-05-{i + 1:02d}T09:00:00",
        }
        for i, c in enumerate(TWIN_REQUESTS)
    ]
    (folder / "twin_services.json").write_text(json.dumps(services))
    (folder / "twin_requests.json").write_text(json.dumps(requests))


def _sf_codes_of_requests() -> Counter:
    return Counter(
        r.findtext("service_code") for r in ET.parse(SF / "san_francisco_requests.xml").getroot().findall("request")
    )


def _sf_requests_by_year() -> dict[int, int]:
    root = ET.parse(SF / "san_francisco_requests.xml").getroot()
    years = [dt.datetime.fromisoformat(r.findtext("requested_datetime")).year for r in root.findall("request")]
    return {y: years.count(y) for y in set(years)}


def _nyc_requests_by_year() -> dict[int, int]:
    """Requests per calendar year (the default fiscal year) that do not close before they
    open: NYC's export has some, and the contract quarantines them."""
    rows: list[tuple[dt.datetime, dt.datetime | None]] = []
    fmt = "%m/%d/%Y %I:%M:%S %p"
    with (NYC / "311_Service_Requests_sample.csv").open(newline="") as f:
        for r in csv.DictReader(f):
            closed = dt.datetime.strptime(r["Closed Date"], fmt) if r["Closed Date"] else None
            rows.append((dt.datetime.strptime(r["Created Date"], fmt), closed))
    for r in json.loads((NYC / "311_Service_Requests_api_2024-05-26.json").read_text()):
        closed = dt.datetime.fromisoformat(r["closed_date"]) if r.get("closed_date") else None
        rows.append((dt.datetime.fromisoformat(r["created_date"]), closed))
    counts: dict[int, int] = {}
    for created, closed in rows:
        if closed is None or closed >= created:
            counts[created.year] = counts.get(created.year, 0) + 1
    return counts


@pytest.fixture(scope="module")
def refreshed(tmp_path_factory):
    from orchestration.cli import main
    from tests.conftest import use_home

    home = tmp_path_factory.mktemp("realdata") / "civic"
    home.mkdir(parents=True)
    twin = home.parent / "twin"
    _write_twin(twin)
    (home / "feeds.yml").write_text(
        "sources:\n"
        f"  - {{name: sf, kind: open311, location: '{SF}', service_id_prefix: 'sf:'}}\n"
        f"  - {{name: nyc, kind: nyc311, location: '{NYC}', service_id_prefix: 'nyc:'}}\n"
        f"  - {{name: twin, kind: open311, location: '{twin}', service_id_prefix: 'twin:'}}\n"
    )
    with pytest.MonkeyPatch.context() as mp:
        use_home(mp, home)
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            code = main(["refresh", "--years", f"{YEARS[0]}:{YEARS[-1]}"])
        assert code == 0, out.getvalue()[-3000:]
        catalog = open_catalog(load_settings())
    con = duckdb.connect(str(home / "lakehouse.duckdb"), read_only=True)
    yield catalog, con, home
    con.close()


def test_a_feeds_catalogue_is_filed_only_under_the_years_its_requests_cover(refreshed):
    """San Francisco's requests are all of FY2012: its catalogue stands for no other year."""
    services = len(ET.parse(SF / "san_francisco_services.xml").getroot().findall("service"))
    assert set(_sf_requests_by_year()) == {2012}
    catalog, con, _ = refreshed
    raw = catalog.load_table("raw.services").scan(selected_fields=("fiscal_year", "_source")).to_arrow()
    filed = Counter(y for y, s in zip(raw["fiscal_year"].to_pylist(), raw["_source"].to_pylist()) if s == "sf")
    assert filed == {2012: services}
    listed = con.execute(
        "select fiscal_year, count(*) from marts.service_channel_kpis where channel = 'all' group by 1 order by 1"
    ).fetchall()
    assert listed == [(2012, services + len(TWIN_SERVICES))]  # sf's and the twin's, none merged
    sf_ids = {
        r.findtext("service_code") for r in ET.parse(SF / "san_francisco_services.xml").getroot().findall("service")
    }
    assert set(TWIN_SERVICES) <= sf_ids  # the collision is real: the same codes
    raw_ids = catalog.load_table("raw.services").scan(selected_fields=("service_id", "_source")).to_arrow()
    ids = Counter(zip(raw_ids["_source"].to_pylist(), raw_ids["service_id"].to_pylist()))
    assert {i for s, i in ids if s == "sf"} == {PREFIX["sf"] + c for c in sf_ids}
    assert {i for s, i in ids if s == "twin"} == {PREFIX["twin"] + c for c in TWIN_SERVICES}


def test_the_marts_keep_two_feeds_services_of_one_code_apart(refreshed):
    """Per service of FY2012, the requests of the summary are those the feed's own file
    holds for its code, in its namespace: San Francisco's 015 and the twin's 015 apart."""
    _, con, _ = refreshed
    per_service = dict(
        con.execute(
            "select service_id, sum(requests) from marts.service_requests_summary "
            "where channel = 'all' and fiscal_year = 2012 and source in ('sf', 'twin') group by 1"
        ).fetchall()
    )
    expected = {PREFIX["sf"] + c: n for c, n in _sf_codes_of_requests().items()}
    expected |= {PREFIX["twin"] + c: n for c, n in Counter(TWIN_REQUESTS).items()}
    assert per_service == expected
    names = dict(
        con.execute(
            "select service_id, service_name from marts.service_channel_kpis "
            "where channel = 'all' and fiscal_year = 2012 and service_id like 'twin:%'"
        ).fetchall()
    )
    assert names == {PREFIX["twin"] + c: n for c, n in TWIN_SERVICES.items()}


def test_requests_reach_the_summary_in_the_years_they_were_made(refreshed):
    summary = dict(
        ((year, source), n)
        for year, source, n in refreshed[1]
        .execute(
            "select fiscal_year, source, sum(requests) from marts.service_requests_summary "
            "where channel = 'all' group by 1, 2"
        )
        .fetchall()
    )
    expected = {(y, "sf"): n for y, n in _sf_requests_by_year().items() if y in YEARS}
    expected |= {(y, "nyc"): n for y, n in _nyc_requests_by_year().items() if y in YEARS}
    expected[(2012, "twin")] = len(TWIN_REQUESTS)
    assert expected[(2014, "nyc")] > 0 and expected[(2012, "sf")] > 0
    assert summary == expected


def test_the_site_built_by_the_refresh_shows_each_services_requests_from_the_file(refreshed):
    """The refresh also publishes the scorecard site: every San Francisco service has its
    page, and its 3-1-1 table shows the FY2012 requests the file holds for its code."""
    from tests.site_pages import REQUEST_FIGURES, service_pages, shown_number

    _, _, home = refreshed
    root = home / "report"
    services = {
        s.findtext("service_code"): s.findtext("service_name")
        for s in ET.parse(SF / "san_francisco_services.xml").getroot().findall("service")
    }
    requests = _sf_codes_of_requests()
    pages = service_pages(root)
    assert set(services.values()) <= set(pages)
    caption = REQUEST_FIGURES[1]
    checked = 0
    for code, name in services.items():
        shown = {
            r["source"]: shown_number(r["requests"])
            for r in pages[name].tables.get(caption, [])
            if r.get("fiscal_year") == "2012" and r.get("channel") == "all"
        }
        if requests[code]:
            # the twin's requests of the same code stay on the twin's own page
            assert shown == {"sf": requests[code]}, (code, name, shown)
            checked += 1
    assert checked >= 5
    twin = Counter(TWIN_REQUESTS)
    for code, name in TWIN_SERVICES.items():
        shown = {r["source"]: shown_number(r["requests"]) for r in pages[name].tables.get(caption, [])}
        assert shown == {"twin": twin[code]}, (code, name, shown)
