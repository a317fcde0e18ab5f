"""The yearly refresh: after a fiscal year closes, refresh it (and so next year's plan)."""

import datetime as dt

import dagster as dg

from contracts.fiscal_year import FiscalCalendar, FiscalYears

DEFAULT_YEARS = FiscalYears()

# Months after the fiscal year's end before the books are closed and the feeds are in.
REFRESH_LAG_MONTHS = 2


def refresh_cron(start_month: int, lag_months: int = REFRESH_LAG_MONTHS) -> str:
    month = (start_month - 1 + lag_months) % 12 + 1
    return f"0 2 1 {month} *"


def lag_months_text(lag_months: int = REFRESH_LAG_MONTHS) -> str:
    return f"{lag_months} month{'s' if lag_months != 1 else ''}"


def next_refresh(
    calendar: FiscalCalendar, now: dt.datetime, lag_months: int = REFRESH_LAG_MONTHS
) -> tuple[dt.datetime, int]:
    """The schedule's next tick after `now` (02:00 on the 1st of the cron's month) and the
    fiscal year it refreshes."""
    month = (calendar.start_month - 1 + lag_months) % 12 + 1
    tick = dt.datetime(now.year, month, 1, 2, 0)
    if tick <= now:
        tick = tick.replace(year=now.year + 1)
    return tick, calendar.closed_year(tick)


def build_annual_schedule(
    job: dg.JobDefinition,
    calendar: FiscalCalendar,
    fiscal_years: FiscalYears = DEFAULT_YEARS,
    now: dt.datetime | None = None,
) -> dg.ScheduleDefinition:
    """`now` (default: when the code location loads) picks the next tick shown in the UI."""
    tick, next_fy = next_refresh(calendar, now or dt.datetime.now())
    next_text = f"{tick:%Y-%m-%d %H:%M}: FY{next_fy}, partition {calendar.key_of(next_fy)}" + (
        "" if next_fy in fiscal_years else " (outside CIVIC_FISCAL_YEARS: skipped)"
    )

    @dg.schedule(
        job=job,
        cron_schedule=refresh_cron(calendar.start_month),
        name="yearly_refresh",
        default_status=dg.DefaultScheduleStatus.STOPPED,
        description=f"Refreshes the fiscal year that closed {lag_months_text()} earlier (its books closed and its "
        "feeds in): at 02:00 on the 1st of that month, one run of annual_refresh for that year's partition, "
        "skipped when the year is outside CIVIC_FISCAL_YEARS. Stopped until turned on. "
        f"Next tick {next_text}.",
        metadata={
            "next_tick": dg.MetadataValue.text(f"{tick:%Y-%m-%d %H:%M}"),
            "next_partition": dg.MetadataValue.text(calendar.key_of(next_fy)),
            "next_fiscal_year": dg.MetadataValue.text(f"FY{next_fy}"),
        },
    )
    def yearly_refresh(context: dg.ScheduleEvaluationContext):
        fy = calendar.closed_year(context.scheduled_execution_time.replace(tzinfo=None))
        if fy not in fiscal_years:
            return dg.SkipReason(
                f"FY{fy} closed, but it is outside the fiscal years {fiscal_years} (CIVIC_FISCAL_YEARS)"
            )
        return dg.RunRequest(run_key=f"FY{fy}", partition_key=calendar.key_of(fy))

    return yearly_refresh
