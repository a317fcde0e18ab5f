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

import datetime as dt

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
