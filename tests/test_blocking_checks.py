"""A failed blocking check stops the marts of that year, and says why with the counts."""

import json

import dagster as dg
import pyarrow.parquet as pq

from lake.marts_query import run_query
from lake.settings import load_settings
from orchestration.cli import main


def test_too_many_contract_failures_stop_the_marts_of_that_year(civic_home, capsys):
    assert main(["demo", "--years", "2023", "--size", "0.1"]) == 0
    from ingestion.demo import generate_demo

    landing = civic_home / "landing"
    generate_demo(landing, years=[2024], size=0.1)
    # A feed that went wrong in 2024: a third of the tickets name a service that does not exist.
    part = landing / "queue_events" / "fy=2024" / "part-0000.parquet"
    table = pq.read_table(part)
    n_bad = table.num_rows // 2
    bad = (
        table.slice(0, n_bad)
        .set_column(
            table.schema.get_field_index("ticket_id"),
            "ticket_id",
            [[f"BAD-{i}" for i in range(n_bad)]],
        )
        .set_column(table.schema.get_field_index("service_id"), "service_id", [["SVC-404"] * n_bad])
    )
    pq.write_table(bad, landing / "queue_events" / "fy=2024" / "part-9999.parquet")

    capsys.readouterr()
    assert main(["refresh", "--years", "2024"]) == 1
    err = capsys.readouterr().err
    assert "raw__queue_events" in err and "contract" in err, err

    settings = load_settings()
    years = run_query(settings.duckdb_path, "select distinct fiscal_year from marts.service_channel_kpis").rows
    assert years == [(2023,)]  # FY2024 marts were not built from the broken load

    instance = dg.DagsterInstance.get()
    key = dg.AssetCheckKey(dg.AssetKey(["raw", "queue_events"]), "contract")
    record = instance.event_log_storage.get_latest_asset_check_execution_by_key([key])[key]
    evaluation = record.event.dagster_event.event_specific_data
    assert evaluation.passed is False
    meta = {k: v.value for k, v in evaluation.metadata.items()}
    assert meta["quarantined"] >= n_bad
    assert meta["received"] == meta["loaded"] + meta["quarantined"]
    assert json.dumps(meta, default=str)
