import datetime as dt

import polars as pl
import pytest

from contracts.fiscal_year import FiscalCalendar, parse_years


def test_calendar_fiscal_year_is_the_calendar_year():
    assert FiscalCalendar().window(2024) == (dt.datetime(2024, 1, 1), dt.datetime(2025, 1, 1))
    assert FiscalCalendar().year_of(dt.date(2024, 12, 31)) == 2024


@pytest.mark.parametrize(
    "start_month, moment, expected",
    [
        (4, dt.datetime(2024, 3, 31, 23, 59), 2024),  # UK/Canada: FY2024 ends 31 March 2024
        (4, dt.datetime(2024, 4, 1), 2025),
        (7, dt.datetime(2024, 6, 30), 2024),  # Australia
        (7, dt.datetime(2024, 7, 1), 2025),
        (10, dt.datetime(2024, 10, 1), 2025),  # US federal FY2025 starts 1 Oct 2024
    ],
)
def test_fiscal_year_is_labelled_by_the_year_it_ends(start_month, moment, expected):
    calendar = FiscalCalendar(start_month)
    assert calendar.year_of(moment) == expected
    start, end = calendar.window(expected)
    assert start <= moment < end
    frame = pl.DataFrame({"t": [moment, None]})
    assert frame.select(calendar.year_expr("t"))["t"].to_list() == [expected, None]


def test_parse_years():
    assert parse_years("2024") == [2024]
    assert parse_years("2021:2025") == [2021, 2022, 2023, 2024, 2025]
    assert parse_years("2023,2021") == [2021, 2023]
    with pytest.raises(ValueError):
        parse_years("2025:2021")
    with pytest.raises(ValueError):
        FiscalCalendar(13)


@pytest.mark.parametrize("start_month, key, fiscal_year", [(1, "2024", 2024), (4, "2023", 2024), (10, "2024", 2025)])
def test_partition_key_of_a_fiscal_year(start_month, key, fiscal_year):
    calendar = FiscalCalendar(start_month)
    assert calendar.year_of_key(key) == fiscal_year
    assert calendar.key_of(fiscal_year) == key
    # the key is the calendar year in which the fiscal year starts
    assert calendar.window(fiscal_year)[0].year == int(key)


def test_closed_year_is_the_year_before_the_one_in_progress():
    assert FiscalCalendar(4).closed_year(dt.date(2026, 4, 1)) == 2026
    assert FiscalCalendar(4).closed_year(dt.date(2026, 3, 31)) == 2025


def test_a_load_context_holds_the_calendar():
    from contracts.rules import LoadContext

    assert LoadContext(2024, FiscalCalendar(4), frozenset({"S1"})).calendar.window(2024)[0] == dt.datetime(2023, 4, 1)
    assert LoadContext(2024).calendar == FiscalCalendar()
    with pytest.raises(TypeError):
        LoadContext(2024, 4)  # the former bare start month
