import datetime as dt

import dagster as dg
import pytest

from contracts.fiscal_year import FiscalCalendar, FiscalYears, check_years, outside_note
from lake.settings import load_settings
from orchestration.defs.partitions import (
    dbt_vars,
    fiscal_year_partitions,
    fiscal_years_of_keys,
)
from orchestration.defs.schedules import build_annual_schedule, refresh_cron


def test_dbt_vars_from_partition_years():
    assert dbt_vars([2024], FiscalCalendar()) == {"fiscal_years": [2024], "fy_start_month": 1}
    assert dbt_vars([2025, 2021, 2023, 2021], FiscalCalendar(4)) == {
        "fiscal_years": [2021, 2023, 2025],
        "fy_start_month": 4,
    }
    with pytest.raises(ValueError):
        dbt_vars([], FiscalCalendar())


def test_partitions_are_the_configured_years_whatever_the_clock():
    parts = fiscal_year_partitions(FiscalCalendar(1))  # the default FY2010..FY2030
    keys = parts.get_partition_keys()
    assert keys == [str(y) for y in range(2010, 2031)]
    # pinned: the same keys in the past and in the future (never computed from now())
    assert parts.get_partition_keys(current_time=dt.datetime(2015, 6, 1)) == keys
    assert parts.get_partition_keys(current_time=dt.datetime(2040, 6, 1)) == keys
    # the real data's years and the demo's (FY2021-2025 and its plan year) are in
    assert {"2012", "2015", "2021", "2025", "2026", "2027", "2028"} <= set(keys)
    narrow = fiscal_year_partitions(FiscalCalendar(1), FiscalYears(2021, 2026))
    assert narrow.get_partition_keys() == ["2021", "2022", "2023", "2024", "2025", "2026"]


def test_non_january_fiscal_years_map_keys_to_the_year_they_end():
    calendar = FiscalCalendar(4)
    parts = fiscal_year_partitions(calendar, FiscalYears(2021, 2026))
    # keys unchanged from the former time windows: the calendar year the fiscal year starts in
    assert parts.get_partition_keys()[0] == "2020" == calendar.key_of(2021)
    assert parts.get_partition_keys()[-1] == "2025"
    assert calendar.window(calendar.year_of_key("2023"))[0] == dt.datetime(2023, 4, 1)
    assert calendar.year_of_key("2023") == 2024
    assert calendar.key_of(2024) == "2023"
    assert fiscal_years_of_keys(["2023", "2022"], calendar) == [2023, 2024]


def test_fiscal_years_setting():
    assert load_settings({}).fiscal_years == FiscalYears(2010, 2030)
    assert load_settings({"CIVIC_FISCAL_YEARS": "2012:2028"}).fiscal_years == FiscalYears(2012, 2028)
    for bad in ("2030:2012", "2012", "twenty:2030", "1800:2030", "2012-2030"):
        with pytest.raises(ValueError, match="CIVIC_FISCAL_YEARS must be FIRST:LAST") as err:
            load_settings({"CIVIC_FISCAL_YEARS": bad})
        assert "\n" not in str(err.value)


def test_check_years_names_the_valid_range():
    years = FiscalYears(2010, 2030)
    assert check_years([2015, 2012, 2015], years) == [2012, 2015]
    with pytest.raises(ValueError) as err:
        check_years([2009, 2015, 2031], years)
    assert str(err.value) == (
        "FY2009, FY2031 are outside the fiscal years FY2010..FY2030 (set CIVIC_FISCAL_YEARS=FIRST:LAST to widen them)"
    )


def test_ingest_note_names_years_outside_and_how_to_widen():
    years = FiscalYears(2010, 2030)
    assert outside_note([2012, 2015, None], years) is None
    assert outside_note([2008, 2009, 2015], years) == (
        "note: loaded FY2008, FY2009, outside the fiscal years FY2010..FY2030 a refresh can build; "
        "set CIVIC_FISCAL_YEARS=2008:2030 to widen them"
    )


def test_refresh_cli_refuses_years_outside_in_one_line(civic_home, capsys, monkeypatch):
    from orchestration.cli.main import main

    monkeypatch.setenv("CIVIC_FISCAL_YEARS", "2010:2030")
    assert main(["refresh", "--years", "2009"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        "civic refresh: --years 2009: FY2009 is outside the fiscal years FY2010..FY2030 "
        "(set CIVIC_FISCAL_YEARS=FIRST:LAST to widen them)"
    )


@pytest.mark.parametrize("closed, runs", [(2025, ["2025"]), (2031, [])])
def test_yearly_schedule_skips_a_closed_year_outside_the_partitions(closed, runs):
    calendar, years = FiscalCalendar(1), FiscalYears(2010, 2030)

    @dg.asset(partitions_def=fiscal_year_partitions(calendar, years))
    def yearly() -> None: ...

    job = dg.define_asset_job("annual_refresh", selection=[yearly])
    schedule = build_annual_schedule(job, calendar, years)
    repo = dg.Definitions(assets=[yearly], jobs=[job], schedules=[schedule]).get_repository_def()
    ctx = dg.build_schedule_context(scheduled_execution_time=dt.datetime(closed + 1, 3, 1, 2, 0), repository_def=repo)
    data = schedule.evaluate_tick(ctx)
    assert [r.partition_key for r in data.run_requests or []] == runs
    if not runs:
        assert "FY2031 closed, but it is outside the fiscal years FY2010..FY2030" in (data.skip_message or "")


@pytest.mark.parametrize(
    "moment, start_month, expected",
    [
        (dt.datetime(2026, 3, 1, 2), 1, 2025),
        (dt.datetime(2026, 12, 31), 1, 2025),
        (dt.datetime(2026, 6, 1), 4, 2026),  # FY2026 ended 31 March 2026
        (dt.datetime(2026, 3, 1), 4, 2025),
        (dt.datetime(2026, 9, 1), 7, 2026),
    ],
)
def test_closed_fiscal_year(moment, start_month, expected):
    assert FiscalCalendar(start_month).closed_year(moment) == expected


def test_refresh_cron_runs_after_the_year_closes():
    assert refresh_cron(1) == "0 2 1 3 *"
    assert refresh_cron(4) == "0 2 1 6 *"
    assert refresh_cron(12, lag_months=2) == "0 2 1 2 *"
