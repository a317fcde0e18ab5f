"""The same ingest and mart build with the warehouse on S3: SeaweedFS over real HTTP on
127.0.0.1, started and stopped by this test by its process id."""

import json
import os

import pytest

from lake.catalog import open_catalog
from lake.marts_query import run_query
from lake.settings import load_settings
from orchestration.cli import main
from orchestration.services import seaweed

ACCESS_KEY = "civic-test"
SECRET_KEY = "civic-test-secret-key"
BUCKET = "civic-lake"


@pytest.fixture
def s3_server(tmp_path):
    server = seaweed.start(tmp_path / "seaweed", ACCESS_KEY, SECRET_KEY)
    try:
        seaweed.ensure_bucket(server.client(), BUCKET)
        yield server
    finally:
        server.stop()
        with pytest.raises(ProcessLookupError):
            os.kill(server.pid, 0)


def test_refresh_with_the_warehouse_on_s3(s3_server, civic_home, monkeypatch):
    monkeypatch.setenv("CIVIC_WAREHOUSE", f"s3://{BUCKET}/warehouse")
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_server.endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.setenv("AWS_REGION", "us-east-1")

    assert main(["demo", "--years", "2024", "--size", "0.2"]) == 0

    settings = load_settings()
    truths = json.loads((civic_home / "landing" / "demo_truths.json").read_text())
    catalog = open_catalog(settings)
    raw = catalog.load_table("raw.queue_events")
    assert raw.location().startswith(f"s3://{BUCKET}/warehouse/")
    assert raw.scan().to_arrow().num_rows == truths["rows_written"]["queue_events"]["2024"]["good"]

    # the data files really are objects in the bucket, written over HTTP
    keys = [o["Key"] for o in s3_server.client().list_objects_v2(Bucket=BUCKET, Prefix="warehouse/")["Contents"]]
    assert any(k.startswith("warehouse/raw/queue_events/data/fiscal_year=2024/") for k in keys)
    assert any(k.startswith("warehouse/marts/service_channel_kpis/") for k in keys)
    # and the refresh published the scorecard site to the same bucket
    site = s3_server.client().get_object(Bucket=BUCKET, Key="report/index.html")
    assert site["ContentType"] == "text/html" and b"<h1>" in site["Body"].read()

    # the marts were built from the S3 data and recover the planted figures
    res = run_query(
        settings.duckdb_path,
        "select service_id, transactions, digital_take_up from marts.service_channel_kpis "
        "where fiscal_year = 2024 and channel = 'all' order by service_id",
    )
    got = {sid: (tx, round(up, 4)) for sid, tx, up in res.rows}
    want = {
        sid: (m["transactions"]["all"], round(m["digital_take_up"], 4)) for sid, m in truths["measures"]["2024"].items()
    }
    assert got == want
    published = catalog.load_table("marts.service_channel_kpis").scan().to_arrow()
    assert published.num_rows == len(run_query(settings.duckdb_path, "select * from marts.service_channel_kpis").rows)
