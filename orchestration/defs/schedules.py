"""The yearly refresh: after a fiscal year closes, refresh it (and so next year's plan)."""


import dagster as dg

from orchestration.defs.partitions import closed_fiscal_year, key_of_fiscal_year

# Months after the fiscal year's end before the books are closed and the feeds are in.
REFRESH_LAG_MONTHS = 2


def refresh_cron(start_month: int, lag_months: int = REFRESH_LAG_MONTHS) -> str:
    month = (start_month - 1 + lag_months) % 12 + 1
    return f"0 2 1 {month} *"


def build_annual_schedule(job: dg.JobDefinition, start_month: int) -> dg.ScheduleDefinition:
    @dg.schedule(job=job, cron_schedule=refresh_cron(start_month), name="yearly_refresh", default_status=dg.DefaultScheduleStatus.STOPPED)
    def yearly_refresh(context: dg.ScheduleEvaluationContext):
        fy = closed_fiscal_year(context.scheduled_execution_time.replace(tzinfo=None), start_month)
        return dg.RunRequest(run_key=f"FY{fy}", partition_key=key_of_fiscal_year(fy, start_month))

    return yearly_refresh
