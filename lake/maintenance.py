"""Keep the metadata of the bookkeeping tables bounded, so a commit costs the same whatever
the history (`raw.loads` gets one append per load, the quarantine table one replace).

Why: every commit rewrites the table's metadata file, which lists every snapshot and the
previous metadata files, and pyiceberg deep-copies that metadata about 19 times per
append: with 100 snapshots a one-row ledger append takes ~0.7 s, and it grows linearly
(400 loads: quarantine commit 0.4 -> 2 s). Three measures, all safe with concurrent
writers (two refreshes at once on PostgreSQL):

- Snapshot expiry, metadata only: a snapshot is dropped from the table metadata when it is
  outside the newest `KEEP_SNAPSHOTS` and older than the table's retention (the ledger:
  none, its rows are never rewritten so an old snapshot holds nothing the current one
  lacks; the quarantine: `RETENTION`, so a recent load's rejected rows stay reachable by
  the `quarantine_snapshot_id` of its ledger row). No file is deleted, so a reader or
  writer working from an older snapshot still finds every file; a branch head is never
  expired (pyiceberg protects it); the catalog re-applies the removal to the current
  metadata at commit (compare-and-swap), so a concurrent writer's new snapshot is kept. A
  lost race (CommitFailedException) or an id another process already expired skips the
  expiry until the next commit.
- `write.metadata.previous-versions-max`: the metadata log lists the last few metadata
  files, not 100 (the files themselves are kept).
- Manifest merging (`commit.manifest-merge.enabled`), for the append-only ledger only:
  without it every append adds a manifest that every later commit lists and every scan
  opens. (The quarantine replaces whole partitions, so its manifests stay one per
  partition; merging them would make each replace rewrite a bigger manifest.) The merge
  happens inside a writer's own commit, under the same compare-and-swap.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import shutil
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import pyarrow.fs as pafs
from pyiceberg.catalog import Catalog
from pyiceberg.exceptions import CommitFailedException
from pyiceberg.table import Table

KEEP_SNAPSHOTS = 10  # the newest snapshots are always kept
RETENTION = dt.timedelta(days=1)  # and, by default, any snapshot younger than this
# expire in batches: one extra commit per EXPIRE_BATCH commits, not one per commit
EXPIRE_BATCH = 10
HISTORY_PROPERTIES = {"write.metadata.previous-versions-max": "10"}
MERGE_PROPERTIES = {
    "commit.manifest-merge.enabled": "true",
    "commit.manifest.min-count-to-merge": "16",
}


def bound_history(table: Table, merge_manifests: bool = False) -> Table:
    """Set the table properties that keep its metadata small (once; best effort)."""
    wanted = {**HISTORY_PROPERTIES, **(MERGE_PROPERTIES if merge_manifests else {})}
    missing = {k: v for k, v in wanted.items() if table.properties.get(k) != v}
    if not missing:
        return table
    try:
        with table.transaction() as tx:
            tx.set_properties(missing)
    except CommitFailedException:  # another writer committed meanwhile: try again next time
        pass
    return table


def expirable(table: Table, keep: int, retention: dt.timedelta, now: dt.datetime) -> list[int]:
    """Snapshot ids outside the newest `keep` and older than `retention` (never a ref head)."""
    heads = {ref.snapshot_id for ref in table.metadata.refs.values()}
    newest_first = sorted(table.metadata.snapshots, key=lambda s: s.timestamp_ms, reverse=True)
    cutoff_ms = (now - retention).timestamp() * 1000
    return [s.snapshot_id for s in newest_first[keep:] if s.timestamp_ms < cutoff_ms and s.snapshot_id not in heads]


def expire_snapshots(
    table: Table,
    keep: int | None = None,
    retention: dt.timedelta | None = None,
    batch: int | None = None,
    now: dt.datetime | None = None,
) -> int:
    """Expire old snapshots once at least `batch` of them are due; returns how many.
    (Defaults: the module's KEEP_SNAPSHOTS, RETENTION and EXPIRE_BATCH.)"""
    keep = KEEP_SNAPSHOTS if keep is None else keep
    retention = RETENTION if retention is None else retention
    batch = EXPIRE_BATCH if batch is None else batch
    ids = expirable(table, keep, retention, now or dt.datetime.now(dt.UTC))
    if len(ids) < max(1, batch):
        return 0
    try:
        table.maintenance.expire_snapshots().by_ids(ids).commit()
    except (CommitFailedException, ValueError):  # a concurrent commit or expiry: next time
        return 0
    return len(ids)


# --- orphan files and snapshot retention (`civic maintenance`) -------------------------
#
# A load killed between writing its files and committing them leaves files that no
# snapshot references: data files placed in a table's data folder (and their `.tmp`
# links), metadata files of a commit that never swapped in, and the load's staging folder
# under CIVIC_HOME/work. Nothing reads them, but they take space. A file is an orphan when
# no snapshot kept in its table's metadata (nor the metadata log) names it; it is removed
# only when it is older than a bound (settings: CIVIC_ORPHAN_MIN_AGE_HOURS), longer than
# any commit takes, so a file a running load is about to register is never touched.


@dataclass(frozen=True)
class Orphan:
    location: str  # a warehouse URI, or a local path of a staging folder
    size: int  # bytes
    age: dt.timedelta
    kind: str  # "data", "metadata" or "staging"


def referenced_files(table: Table) -> set[str]:
    """Every file the table's metadata still reaches: metadata files of the log, manifest
    lists, manifests, data and delete files of every kept snapshot, statistics files."""
    meta, io = table.metadata, table.io
    refs = {table.metadata_location, *(entry.metadata_file for entry in meta.metadata_log)}
    refs |= {s.statistics_path for s in meta.statistics}
    refs |= {s.statistics_path for s in meta.partition_statistics}
    for snapshot in meta.snapshots:
        refs.add(snapshot.manifest_list)
        for manifest in snapshot.manifests(io):
            refs.add(manifest.manifest_path)
            for entry in manifest.fetch_manifest_entry(io, discard_deleted=False):
                refs.add(entry.data_file.file_path)
    return refs


def normal_location(location: str) -> str:
    """A location without its scheme, so file:///x, /x and s3://b/x compare as paths."""
    parsed = urlparse(location)
    return f"{parsed.netloc}{parsed.path}" if parsed.scheme else location


def table_orphans(table: Table, fs: pafs.FileSystem, now: dt.datetime) -> list[Orphan]:
    """Files under the table's data/ and metadata/ folders that nothing references."""
    refs = {normal_location(r) for r in referenced_files(table)}
    root = normal_location(table.location()).rstrip("/")
    found: list[Orphan] = []
    for folder, kind in (("data", "data"), ("metadata", "metadata")):
        infos = fs.get_file_info(pafs.FileSelector(f"{root}/{folder}", recursive=True, allow_not_found=True))
        for info in infos:
            if info.type != pafs.FileType.File or normal_location(info.path) in refs:
                continue
            mtime = info.mtime or now
            if mtime.tzinfo is None:
                mtime = mtime.replace(tzinfo=dt.UTC)
            found.append(Orphan(info.path, info.size or 0, now - mtime, kind))
    return found


def staging_orphans(work_dir: Path, now: dt.datetime) -> list[Orphan]:
    """Staging folders of loads under CIVIC_HOME/work (a finished load removes its own)."""
    if not work_dir.is_dir():
        return []
    found = []
    for folder in sorted(p for p in work_dir.iterdir() if p.is_dir()):
        files = [f for f in folder.rglob("*") if f.is_file()]
        newest = max([f.stat().st_mtime for f in files] + [folder.stat().st_mtime])
        size = sum(f.stat().st_size for f in files)
        found.append(Orphan(str(folder), size, now - dt.datetime.fromtimestamp(newest, dt.UTC), "staging"))
    return found


def all_tables(catalog: Catalog) -> list[Table]:
    return [catalog.load_table(ident) for ns in catalog.list_namespaces() for ident in catalog.list_tables(ns)]


def find_orphans(catalog: Catalog, fs: pafs.FileSystem, work_dir: Path, now: dt.datetime) -> list[Orphan]:
    """Every orphan of the lake: unreferenced table files, and leftover staging folders."""
    found = [o for table in all_tables(catalog) for o in table_orphans(table, fs, now)]
    return found + staging_orphans(work_dir, now)


def remove_orphans(orphans: list[Orphan], fs: pafs.FileSystem, min_age: dt.timedelta) -> list[Orphan]:
    """Remove the orphans older than `min_age`; returns those removed."""
    removed = []
    for orphan in orphans:
        if orphan.age < min_age:
            continue
        if orphan.kind == "staging":
            shutil.rmtree(orphan.location, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                fs.delete_file(orphan.location)
        removed.append(orphan)
    return removed


def expire_by_retention(catalog: Catalog, retention: dt.timedelta, now: dt.datetime) -> dict[str, int]:
    """Expire, in every table, the snapshots older than `retention` outside the newest
    KEEP_SNAPSHOTS (metadata only; their files become orphans for `remove_orphans`)."""
    expired = {}
    for table in all_tables(catalog):
        n = expire_snapshots(table, retention=retention, batch=1, now=now)
        if n:
            expired[".".join(table.name()[-2:])] = n
    return expired


@dataclass
class MaintenanceReport:
    orphans: list[Orphan]  # found before removal
    removed: list[Orphan]
    expired: dict[str, int]  # table -> snapshots expired

    @property
    def kept(self) -> list[Orphan]:
        gone = {o.location for o in self.removed}
        return [o for o in self.orphans if o.location not in gone]

    def summary(self, min_age: dt.timedelta) -> str:
        size = sum(o.size for o in self.removed)
        return (
            f"{len(self.orphans)} orphan(s) found; removed {len(self.removed)} ({size / 1e6:.1f} MB) older than "
            f"{min_age.total_seconds() / 3600:g} h, kept {len(self.kept)} younger; expired "
            f"{sum(self.expired.values())} snapshot(s) in {len(self.expired)} table(s)"
        )


def run_maintenance(
    catalog: Catalog,
    fs: pafs.FileSystem,
    work_dir: Path,
    min_age: dt.timedelta,
    retention: dt.timedelta,
    dry_run: bool = False,
    now: dt.datetime | None = None,
) -> MaintenanceReport:
    """Expire snapshots by retention, then list the orphans and remove those older than
    `min_age` (with `dry_run`, only list them)."""
    now = now or dt.datetime.now(dt.UTC)
    expired = {} if dry_run else expire_by_retention(catalog, retention, now)
    orphans = find_orphans(catalog, fs, work_dir, now)
    removed = [] if dry_run else remove_orphans(orphans, fs, min_age)
    return MaintenanceReport(orphans, removed, expired)
