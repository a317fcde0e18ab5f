"""The yearly refresh: after a fiscal year closes, refresh it (and so next year's plan)."""

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


def build_annual_schedule(
    job: dg.JobDefinition, calendar: FiscalCalendar, fiscal_years: FiscalYears = DEFAULT_YEARS
) -> dg.ScheduleDefinition:
    @dg.schedule(
        job=job,
        cron_schedule=refresh_cron(calendar.start_month),
        name="yearly_refresh",
        default_status=dg.DefaultScheduleStatus.STOPPED,
        description=f"Refreshes the fiscal year that closed {lag_months_text()} earlier (its books closed and its "
        "feeds in): at 02:00 on the 1st of that month, one run of annual_refresh for that year's partition, "
        "skipped when the year is outside CIVIC_FISCAL_YEARS. Stopped until turned on.",
    )
    def yearly_refresh(context: dg.ScheduleEvaluationContext):
        fy = calendar.closed_year(context.scheduled_execution_time.replace(tzinfo=None))
        if fy not in fiscal_years:
            return dg.SkipReason(
                f"FY{fy} closed, but it is outside the fiscal years {fiscal_years} (CIVIC_FISCAL_YEARS)"
            )
        return dg.RunRequest(run_key=f"FY{fy}", partition_key=calendar.key_of(fy))

    return yearly_refresh
