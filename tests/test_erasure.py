"""Erasure and retention on a small demo lake of its own (one fiscal year): after `civic
erase` the pseudonym is in no file under CIVIC_HOME, `civic verify` passes and the marts
count exactly the erased rows fewer; retention removes the years past it the same way."""

import contextlib
import datetime as dt
import io

import pytest
from personal_scan import files_holding

from tests.conftest import use_home

YEAR = 2025


@pytest.fixture(scope="module")
def small_lake(tmp_path_factory):
    from orchestration.cli import main

    home = tmp_path_factory.mktemp("erasure") / "civic"
    with pytest.MonkeyPatch.context() as mp:
        use_home(mp, home)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            assert main(["demo", "--size", "0.05", "--years", f"{YEAR}:{YEAR}"]) == 0, out.getvalue()[-3000:]
        yield home


def _catalog():
    from lake.catalog import open_catalog
    from lake.settings import load_settings

    return open_catalog(load_settings())


def _responses_in_marts() -> int:
    """Survey responses the scorecard's channel KPIs count (`all` rows: every response)."""
    from lake.marts_query import run_query
    from lake.settings import load_settings

    sql = (
        "select sum(responses) + sum(responses_dont_know) as n from marts.service_channel_kpis "
        f"where channel = 'all' and fiscal_year = {YEAR}"
    )
    return int(run_query(load_settings().marts_path, sql).rows[0][0])


def _run(argv: list[str]) -> str:
    from orchestration.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(argv)
    assert code == 0, out.getvalue()[-3000:]
    return out.getvalue()


def test_an_erased_person_is_in_no_file_and_the_lake_still_verifies(small_lake, monkeypatch):
    use_home(monkeypatch, small_lake)
    catalog = _catalog()
    responses = catalog.load_table("raw.survey_responses").scan().to_arrow()
    quarantined = catalog.load_table("quarantine.rejected_rows").scan().to_arrow()["row"].to_pylist()
    keys = responses["respondent_key"].to_pylist()
    # the person with the most responses, preferring one also in the quarantine
    person = max(set(keys), key=lambda k: (any(k in q for q in quarantined), keys.count(k)))
    raw_rows = keys.count(person)
    quarantine_rows = sum(person in q for q in quarantined)
    before = _responses_in_marts()
    assert files_holding(small_lake, [person])  # it is there before

    out = _run(["erase", "--pseudonym", person])

    assert f"erased: {raw_rows + quarantine_rows} row(s) removed" in out
    assert files_holding(small_lake, [person]) == {}
    assert _responses_in_marts() == before - raw_rows
    assert "verify OK" in _run(["verify"])
    after = _catalog().load_table("raw.survey_responses").scan().to_arrow()
    assert after.num_rows == responses.num_rows - raw_rows
    assert person not in after["respondent_key"].to_pylist()
    loads = _run(["loads", "--table", "survey_responses", "--limit", "1"])
    assert "erasure" in loads and person not in loads
    # erasing again finds nothing
    assert "nothing erased" in _run(["erase", "--pseudonym", person])


def test_retention_removes_the_years_past_it_and_the_lake_still_verifies(small_lake, monkeypatch):
    from contracts.register import read_register
    from lake.dbt_source import arrow_filesystem
    from lake.erasure import remove_rows, year_selections
    from lake.retention import first_kept_years
    from lake.settings import load_settings

    use_home(monkeypatch, small_lake)
    settings, catalog = load_settings(), _catalog()
    services = catalog.load_table("raw.services").scan().to_arrow().num_rows
    # seven years after FY2025 ended, its survey and request rows are past retention
    kept = first_kept_years(read_register(), settings.calendar, dt.date(YEAR + 8, 1, 15))
    assert kept == {"survey_responses": YEAR + 1, "survey_answers": YEAR + 1, "service_requests": YEAR + 1}
    fs = arrow_filesystem(settings, settings.warehouse)
    removals = remove_rows(catalog, fs, settings.work_dir, year_selections(kept), "retention")

    assert {r.table for r in removals} >= {"raw.survey_responses", "raw.service_requests"}
    for name in ("raw.survey_responses", "raw.service_requests"):
        assert catalog.load_table(name).scan().to_arrow().num_rows == 0
    quarantine = catalog.load_table("quarantine.rejected_rows").scan().to_arrow().to_pylist()
    past = [q for q in quarantine if q["entity"] in kept and q["fiscal_year"] is not None]
    assert past == []
    assert catalog.load_table("raw.services").scan().to_arrow().num_rows == services  # no retention
    assert "verify OK" in _run(["verify"])
    assert remove_rows(catalog, fs, settings.work_dir, year_selections(kept), "retention") == []
