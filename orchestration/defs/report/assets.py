"""report/site: the public scorecard site and open data, rebuilt by every refresh.

Partitioned by fiscal year like the marts so it joins the same runs; each run rewrites the
whole site under $CIVIC_HOME/report (the index and trends span every year in the marts).
"""

import mimetypes
from pathlib import Path

import dagster as dg

from lake.catalog import open_catalog
from lake.load_ledger import ledger_head, read_loads
from lake.locks import marts_lock
from lake.settings import Settings
from orchestration.defs.dbt.project import ensure_manifest
from orchestration.defs.owners import owners_of
from orchestration.defs.resources import LakehouseResource
from orchestration.progress import progress
from orchestration.services.seaweed import s3_client
from report.build import NoScorecard, build_site
from report.explanations import read_explanations

REPORT_SITE_KEY = dg.AssetKey(["report", "site"])
REPORT_PREFIX = "report/"


def site_dir(settings: Settings) -> Path:
    return settings.home / "report"


def publish_site(settings: Settings, out: Path | None = None) -> list[Path]:
    """Build the site from the marts, the load ledger (and its chain head) and
    plans/explanations.yml; with the warehouse on S3 (the production profile) also copy it
    to the bucket under `report/`."""
    catalog = open_catalog(settings)
    loads = read_loads(catalog).to_pylist()
    head = ledger_head(catalog)  # the head `civic refresh` prints, shown on every page
    explanations = read_explanations()
    root = out or site_dir(settings)
    with marts_lock(settings, progress):
        pages = build_site(settings.duckdb_path, root, loads, explanations, ensure_manifest(), chain_head=head)
    if settings.warehouse_is_s3:
        bucket = upload_site(settings, root)
        progress(f"  published the site to s3://{bucket}/{REPORT_PREFIX}")
    return pages


def upload_site(settings: Settings, root: Path) -> str:
    """Every file of the site to s3://<warehouse bucket>/report/, with its content type."""
    bucket = settings.warehouse.removeprefix("s3://").split("/", 1)[0]
    client = s3_client(
        settings.s3_endpoint, settings.s3_access_key_id, settings.s3_secret_access_key, settings.s3_region
    )
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        key = REPORT_PREFIX + path.relative_to(root).as_posix()
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        client.upload_file(str(path), bucket, key, ExtraArgs={"ContentType": kind})
    return bucket


def build_report_asset(partitions_def: dg.PartitionsDefinition, published: list[dg.AssetKey]) -> dg.AssetsDefinition:
    """`published`: the Iceberg publications of the marts (the site is built after them)."""

    @dg.asset(
        key=REPORT_SITE_KEY,
        deps=published,
        partitions_def=partitions_def,
        backfill_policy=dg.BackfillPolicy.single_run(),
        group_name="report",
        owners=owners_of("report"),
        kinds={"html"},
        pool="marts_duckdb",
        description="The public scorecard site and open-data package under $CIVIC_HOME/report, from the marts.",
    )
    def report_site(context: dg.AssetExecutionContext, lakehouse: LakehouseResource):
        settings = lakehouse.settings()
        try:
            pages = publish_site(settings)
        except NoScorecard:  # years without data: nothing to publish, not a failed refresh
            progress("  no scorecard in the marts yet: the site is not built", done=True)
            return dg.MaterializeResult(metadata={"pages": dg.MetadataValue.int(0), "skipped": "no scorecard rows"})
        progress(f"  wrote the scorecard site: {len(pages)} page(s) under {site_dir(settings)}", done=True)
        return dg.MaterializeResult(
            metadata={"pages": dg.MetadataValue.int(len(pages)), "path": str(site_dir(settings))}
        )

    return report_site
