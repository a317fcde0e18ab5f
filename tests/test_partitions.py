import datetime as dt

import pytest

from contracts.fiscal_year import FiscalCalendar
from orchestration.defs.partitions import (
    dbt_vars,
    fiscal_year_partitions,
    fiscal_years_of_keys,
)
from orchestration.defs.schedules import refresh_cron


def test_dbt_vars_from_partition_years():
    assert dbt_vars([2024], FiscalCalendar()) == {"fiscal_years": [2024], "fy_start_month": 1}
    assert dbt_vars([2025, 2021, 2023, 2021], FiscalCalendar(4)) == {
        "fiscal_years": [2021, 2023, 2025],
        "fy_start_month": 4,
    }
    with pytest.raises(ValueError):
        dbt_vars([], FiscalCalendar())


def test_partitions_are_pinned_and_yearly():
    parts = fiscal_year_partitions(FiscalCalendar(1))
    keys = parts.get_partition_keys(current_time=dt.datetime(2026, 6, 1))
    assert keys[0] == "2021"
    # end_offset=1: the fiscal year in progress is offered too
    assert keys[-1] == "2026"
    window = parts.time_window_for_partition_key("2024")
    assert (window.start.year, window.start.month, window.end.year) == (2024, 1, 2025)


def test_non_january_fiscal_years_map_keys_to_the_year_they_end():
    calendar = FiscalCalendar(4)
    parts = fiscal_year_partitions(calendar)
    window = parts.time_window_for_partition_key("2023")
    assert (window.start.year, window.start.month) == (2023, 4)
    assert calendar.year_of_key("2023") == 2024
    assert calendar.key_of(2024) == "2023"
    assert fiscal_years_of_keys(["2023", "2022"], calendar) == [2023, 2024]
    assert parts.get_partition_keys(current_time=dt.datetime(2026, 6, 1))[0] == calendar.key_of(2021)


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
