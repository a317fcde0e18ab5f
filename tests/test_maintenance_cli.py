"""`civic maintenance` lists the orphans a killed load left, with size and age, removes
those past the bound and refuses an unsafe bound; the production profile schedules it."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from lake.commit import partition_filter, replace_partition
from lake.tables import ensure_table
from orchestration.cli import main

SCHEMA = pa.schema([("id", pa.string()), ("fiscal_year", pa.int32())])


def _civic(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def _killed_load(lake, tmp_path: Path) -> Path:
    """A committed year, and the file of a load killed before its commit."""
    _, catalog = lake
    table = ensure_table(catalog, "raw.things", SCHEMA, partition_by=("fiscal_year",))
    staged = tmp_path / "staged.parquet"
    pq.write_table(pa.table({"id": ["a"], "fiscal_year": pa.array([2024], pa.int32())}, schema=SCHEMA), staged)
    replace_partition(table, [staged], partition_filter(2024), "fiscal_year=2024", "load-1", {})
    orphan = Path(table.location().removeprefix("file://")) / "data" / "fiscal_year=2024" / "load-2-00000.parquet"
    pq.write_table(pa.table({"id": ["b", "c"], "fiscal_year": pa.array([2024, 2024], pa.int32())}), orphan)
    return orphan


def test_maintenance_lists_and_removes_the_orphans_of_a_killed_load(lake, tmp_path):
    orphan = _killed_load(lake, tmp_path)
    code, out, _ = _civic("maintenance", "--dry-run", "--list")
    assert code == 0  # a table as wide as the terminal: a long path folds across lines
    assert orphan.name in out and f"{orphan.stat().st_size:,}" in out
    assert "1 orphan(s) (1 data); dry run: nothing removed or expired" in out
    code, out, _ = _civic("maintenance", "--dry-run", "--list", "--format", "csv")
    assert code == 0
    assert str(orphan) in out and str(orphan.stat().st_size) in out
    assert orphan.exists()

    code, out, _ = _civic("maintenance")  # the default bound (24 h) keeps a young file
    assert code == 0 and orphan.exists()
    assert "removed 0 (0.0 MB) older than 24 h, kept 1 younger" in out

    code, out, _ = _civic("maintenance", "--older-than", "0")
    assert code == 0 and not orphan.exists()
    assert "1 orphan(s) found; removed 1" in out
    _, catalog = lake
    assert catalog.load_table("raw.things").scan().to_arrow()["id"].to_pylist() == ["a"]


def test_an_unsafe_bound_is_refused_with_a_shared_catalog(civic_home, monkeypatch):
    monkeypatch.setenv("CIVIC_CATALOG_URI", "postgresql+psycopg://nowhere/db")
    code, _, err = _civic("maintenance", "--older-than", "0.5")
    assert code == 2
    assert err.strip().count("\n") == 0 and "use at least 1 hour(s)" in err


def test_the_production_profile_runs_maintenance_nightly():
    import dagster as dg

    from orchestration.defs.maintenance import build_maintenance_schedule

    assert build_maintenance_schedule("production").default_status == dg.DefaultScheduleStatus.RUNNING
    assert build_maintenance_schedule("embedded").default_status == dg.DefaultScheduleStatus.STOPPED


def test_the_maintenance_job_removes_orphans_past_the_bound(lake, tmp_path, monkeypatch):
    from orchestration.defs.maintenance import lake_maintenance
    from orchestration.defs.resources import LakehouseResource

    orphan = _killed_load(lake, tmp_path)
    monkeypatch.setenv("CIVIC_ORPHAN_MIN_AGE_HOURS", "0")
    result = lake_maintenance.execute_in_process(resources={"lakehouse": LakehouseResource.from_env()})
    assert result.success and not orphan.exists()
    assert result.output_for_node("lake_maintenance_op") == 1
