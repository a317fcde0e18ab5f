"""`civic maintenance` on a schedule: every night, orphan files past the bound removed and
snapshots past the retention expired (lake/maintenance.py). Running by default in the
production profile; in the embedded one it is there to switch on in the UI."""

import datetime as dt

import dagster as dg

from lake.dbt_source import arrow_filesystem
from lake.locks import refresh_lock
from lake.maintenance import run_maintenance
from orchestration.defs.resources import LakehouseResource

MAINTENANCE_CRON = "0 3 * * *"  # 03:00, after the 02:00 yearly refresh of its day


@dg.op(description="Expire old snapshots, then remove orphan files older than the bound.")
def lake_maintenance_op(context: dg.OpExecutionContext, lakehouse: LakehouseResource) -> dg.Output[int]:
    settings = lakehouse.settings()
    min_age = dt.timedelta(hours=settings.orphan_min_age_hours)
    with refresh_lock(settings):
        report = run_maintenance(
            lakehouse.catalog(),
            arrow_filesystem(settings, settings.warehouse),
            settings.work_dir,
            min_age,
            dt.timedelta(days=settings.snapshot_retention_days),
        )
    context.log.info(report.summary(min_age))
    return dg.Output(
        len(report.removed),
        metadata={
            "orphans_found": len(report.orphans),
            "orphans_removed": len(report.removed),
            "bytes_removed": sum(o.size for o in report.removed),
            "snapshots_expired": sum(report.expired.values()),
        },
    )


@dg.job(description="Orphan files removed and old snapshots expired (civic maintenance).")
def lake_maintenance() -> None:
    lake_maintenance_op()


def build_maintenance_schedule(profile: str) -> dg.ScheduleDefinition:
    running = profile == "production"
    return dg.ScheduleDefinition(
        name="nightly_maintenance",
        job=lake_maintenance,
        cron_schedule=MAINTENANCE_CRON,
        default_status=dg.DefaultScheduleStatus.RUNNING if running else dg.DefaultScheduleStatus.STOPPED,
    )
