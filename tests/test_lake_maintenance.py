"""Staged files are hard-linked (not copied) into a local warehouse; the bookkeeping tables keep their
metadata bounded (merged manifests, expired snapshots), also with two writers at once."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lake import maintenance
from lake.catalog import open_catalog
from lake.commit import partition_filter, replace_partition
from lake.load_ledger import LOADS_TABLE, LoadRecord, read_loads, record_load
from lake.settings import load_settings
from lake.tables import ensure_table

SCHEMA = pa.schema([("id", pa.string()), ("fiscal_year", pa.int32())])


def _staged(path: Path, ids: list[str], year: int = 2024) -> Path:
    pq.write_table(pa.table({"id": ids, "fiscal_year": pa.array([year] * len(ids), pa.int32())}, schema=SCHEMA), path)
    return path


def _table(catalog):
    return ensure_table(catalog, "raw.things", SCHEMA, partition_by=("fiscal_year",))


def _replace(table, staged: Path, prefix: str) -> None:
    replace_partition(table, [staged], partition_filter(2024), "fiscal_year=2024", prefix, {"civic.load-id": prefix})


def _data_file(table) -> Path:
    (task,) = list(table.scan().plan_files())
    return Path(task.file.file_path.removeprefix("file://"))


def test_a_staged_file_is_linked_into_a_local_warehouse(civic_home, tmp_path):
    catalog = open_catalog(load_settings())
    staged = _staged(tmp_path / "staged.parquet", ["a", "b", "c"])
    inode = staged.stat().st_ino
    table = _table(catalog)
    _replace(table, staged, "load-1")
    assert _data_file(table).stat().st_ino == inode  # the same bytes on disk, not a copy
    assert staged.exists()  # still the caller's: committing it again replaces the same rows
    _replace(table, staged, "load-1")
    assert sorted(table.scan().to_arrow()["id"].to_pylist()) == ["a", "b", "c"]
    staged.unlink()  # the work folder is discarded after the commit: the table keeps its file
    assert sorted(table.refresh().scan().to_arrow()["id"].to_pylist()) == ["a", "b", "c"]
    assert not list(_data_file(table).parent.glob(".*.tmp"))


@pytest.mark.skipif(
    not Path("/dev/shm").is_dir() or os.stat("/dev/shm").st_dev == os.stat(Path.cwd()).st_dev,
    reason="needs a second filesystem (/dev/shm)",
)
def test_a_staged_file_on_another_filesystem_is_copied(civic_home, tmp_path):
    catalog = open_catalog(load_settings())
    if os.stat("/dev/shm").st_dev == os.stat(civic_home).st_dev:
        pytest.skip("the lake is on /dev/shm's filesystem")
    staged = _staged(Path("/dev/shm") / f"civic-staged-{os.getpid()}-{tmp_path.name}.parquet", ["x", "y"])
    try:
        table = _table(catalog)
        _replace(table, staged, "load-1")
        assert staged.exists()  # copied across filesystems: the source stays for its owner to discard
        assert sorted(table.scan().to_arrow()["id"].to_pylist()) == ["x", "y"]
    finally:
        staged.unlink(missing_ok=True)


def _record(i: int) -> LoadRecord:
    now = dt.datetime.now()
    return LoadRecord(f"load-{i:03d}", "raw.things", 2024, "landing", 2, 1, 1, None, None, 1, now, now, 0.0, "test")


def test_the_ledger_merges_manifests_and_expires_old_snapshots(civic_home, monkeypatch):
    monkeypatch.setattr(maintenance, "KEEP_SNAPSHOTS", 5)
    monkeypatch.setattr(maintenance, "RETENTION", dt.timedelta(0))
    monkeypatch.setattr(maintenance, "EXPIRE_BATCH", 4)
    catalog = open_catalog(load_settings())
    for i in range(40):
        record_load(catalog, _record(i))
    table = catalog.load_table(LOADS_TABLE)
    assert table.properties["commit.manifest-merge.enabled"] == "true"
    assert table.properties["write.metadata.previous-versions-max"] == "10"
    assert len(table.metadata.metadata_log) <= 10
    assert len(table.metadata.snapshots) < 5 + 4 + 1  # the newest 5, plus fewer than a batch
    assert len(table.current_snapshot().manifests(table.io)) < 16 + 1
    ledger = read_loads(catalog)
    assert sorted(ledger["load_id"].to_pylist()) == [f"load-{i:03d}" for i in range(40)]  # no row lost


def test_young_snapshots_and_the_current_one_are_never_expired(civic_home):
    catalog = open_catalog(load_settings())
    for i in range(3):
        record_load(catalog, _record(i))
    table = catalog.load_table(LOADS_TABLE)
    now = dt.datetime.now(dt.UTC)
    assert maintenance.expirable(table, keep=0, retention=maintenance.RETENTION, now=now) == []
    later = now + maintenance.RETENTION + dt.timedelta(minutes=1)
    due = maintenance.expirable(table, keep=0, retention=maintenance.RETENTION, now=later)
    assert table.current_snapshot().snapshot_id not in due
    assert len(due) == len(table.metadata.snapshots) - 1


def test_expiry_racing_another_writer_keeps_the_writers_snapshot(civic_home):
    """Process A plans an expiry from its (stale) view while process B commits a load and
    expires too: A's late expiry neither drops B's snapshot nor fails."""
    catalog_a, catalog_b = open_catalog(load_settings()), open_catalog(load_settings())
    for i in range(8):
        record_load(catalog_b, _record(i))
    stale = catalog_a.load_table(LOADS_TABLE)
    record_load(catalog_b, _record(8))  # B commits after A loaded its view
    b_head = catalog_b.load_table(LOADS_TABLE).current_snapshot().snapshot_id
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=30)
    assert maintenance.expire_snapshots(stale, keep=2, retention=dt.timedelta(0), batch=1, now=later) > 0
    fresh = catalog_b.load_table(LOADS_TABLE)
    assert fresh.current_snapshot().snapshot_id == b_head
    assert len(read_loads(catalog_b)) == 9
    # B expiring the same (already expired) snapshots from its own stale view: skipped, no error
    before = catalog_b.load_table(LOADS_TABLE)
    again = catalog_a.load_table(LOADS_TABLE)
    maintenance.expire_snapshots(before, keep=1, retention=dt.timedelta(0), batch=1, now=later)
    assert maintenance.expire_snapshots(again, keep=1, retention=dt.timedelta(0), batch=1, now=later) == 0
    assert len(read_loads(catalog_a)) == 9


def test_the_quarantine_keeps_recent_snapshots_and_expires_old_ones(civic_home, tmp_path, monkeypatch):
    from contracts.staged import QUARANTINE_ARROW
    from lake.quarantine import QUARANTINE_TABLE, replace_quarantine

    monkeypatch.setattr(maintenance, "KEEP_SNAPSHOTS", 4)
    monkeypatch.setattr(maintenance, "EXPIRE_BATCH", 2)
    catalog = open_catalog(load_settings())

    def load(i: int) -> None:
        row = {
            "entity": "queue_events",
            "fiscal_year": 2024,
            "load_id": f"load-{i}",
            "source": "landing",
            "source_file": "f.csv",
            "rule": "type",
            "column": "c",
            "message": "m",
            "row": "{}",
        }
        staged = tmp_path / f"q{i}.parquet"
        pq.write_table(pa.Table.from_pylist([row], schema=QUARANTINE_ARROW), staged)
        replace_quarantine(
            catalog, "queue_events", 2024, "landing", staged, f"load-{i}", {"civic.load-id": f"load-{i}"}
        )

    for i in range(6):
        load(i)
    young = len(catalog.load_table(QUARANTINE_TABLE).metadata.snapshots)
    assert young > 4 + 2  # all younger than RETENTION: kept for time travel
    monkeypatch.setattr(maintenance, "RETENTION", dt.timedelta(0))
    load(6)
    table = catalog.load_table(QUARANTINE_TABLE)
    assert len(table.metadata.snapshots) <= 4
    assert table.scan().to_arrow()["load_id"].to_pylist() == ["load-6"]  # the partition holds the last load


# --- orphans and retention (`civic maintenance`) ----------------------------------------


def _orphans(settings, catalog, now=None):
    from lake.dbt_source import arrow_filesystem

    fs = arrow_filesystem(settings, settings.warehouse)
    return fs, maintenance.find_orphans(catalog, fs, settings.work_dir, now or dt.datetime.now(dt.UTC))


def test_files_of_a_killed_load_are_orphans_and_removed_past_the_bound(civic_home, tmp_path):
    settings = load_settings()
    catalog = open_catalog(settings)
    table = _table(catalog)
    _replace(table, _staged(tmp_path / "one.parquet", ["a", "b"]), "load-1")
    _replace(table, _staged(tmp_path / "two.parquet", ["c"]), "load-2")  # load-1's file: still in a snapshot
    # what a load killed before its commit leaves: a file placed in the data folder, its
    # staging folder under CIVIC_HOME/work
    placed = Path(table.location().removeprefix("file://")) / "data" / "fiscal_year=2024" / "load-3-00000.parquet"
    _staged(placed, ["x", "y", "z"])
    staging = settings.work_dir / "things-fy2024-load-3"
    staging.mkdir(parents=True)
    _staged(staging / "part.parquet", ["x"])
    fs, found = _orphans(settings, catalog)
    by_kind = {o.kind: o for o in found}
    assert sorted(by_kind) == ["data", "staging"]
    assert by_kind["data"].location == str(placed) and by_kind["data"].size == placed.stat().st_size
    assert by_kind["staging"].location == str(staging)

    young = maintenance.remove_orphans(found, fs, min_age=dt.timedelta(hours=1))
    assert young == [] and placed.exists() and staging.exists()  # a running load may still register them

    removed = maintenance.remove_orphans(found, fs, min_age=dt.timedelta(0))
    assert len(removed) == 2 and not placed.exists() and not staging.exists()
    assert _orphans(settings, catalog)[1] == []
    table = table.refresh()
    assert sorted(table.scan().to_arrow()["id"].to_pylist()) == ["c"]
    first = min(table.metadata.snapshots, key=lambda s: s.timestamp_ms)
    assert table.scan(snapshot_id=first.snapshot_id).to_arrow().num_rows == 2  # time travel intact


def test_snapshots_past_the_retention_are_expired_and_their_files_become_orphans(civic_home, tmp_path):
    settings = load_settings()
    catalog = open_catalog(settings)
    table = _table(catalog)
    for i in range(4):
        _replace(table, _staged(tmp_path / f"{i}.parquet", [f"id{i}"]), f"load-{i}")
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=30)
    report = maintenance.run_maintenance(
        catalog, *_orphans(settings, catalog)[:1], settings.work_dir, dt.timedelta(0), dt.timedelta(days=7), now=later
    )
    assert report.expired == {}  # the newest KEEP_SNAPSHOTS are kept whatever their age
    snapshots = len(table.refresh().metadata.snapshots)  # a replace commits a delete and an append
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(maintenance, "KEEP_SNAPSHOTS", 1)
        report = maintenance.run_maintenance(
            catalog,
            *_orphans(settings, catalog)[:1],
            settings.work_dir,
            dt.timedelta(0),
            dt.timedelta(days=7),
            now=later,
        )
    assert report.expired == {"raw.things": snapshots - 1}
    assert {o.kind for o in report.removed} >= {"data"}  # the expired snapshots' files
    table = table.refresh()
    assert len(table.metadata.snapshots) == 1
    assert table.scan().to_arrow()["id"].to_pylist() == ["id3"]
