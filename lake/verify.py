"""`civic verify`: recompute the load ledger's hash chain and the data files' hashes,
and name exactly what was altered.

Found, each as one line naming the entry, file or snapshot:
- a ledger entry edited (its hash no longer matches its content), removed (a gap in the
  sequence, or a later entry no longer chaining to its predecessor) or reordered;
- a data file changed (its SHA-256 differs from the one its load recorded), deleted from
  storage, or dropped from the table while its load is still the partition's newest;
- a data file in a table that no ledger entry registered;
- a snapshot of a raw or quarantine table that no ledger entry explains (a commit made
  outside a load, or the entry of the newest load removed).
- an erasure or retention entry (lake.erasure: `erased` set) that removes rows from a
  partition no earlier entry loaded, or whose rows before and after do not differ by
  exactly the rows it says it removed.
A head kept from an earlier refresh (`--head`) must still be an entry of the chain.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from pyiceberg.catalog import Catalog
from pyiceberg.exceptions import NoSuchTableError
from pyiceberg.table import Table

from lake.ledger_chain import GENESIS, entry_hash, read_file_list, sha256_file
from lake.load_ledger import LOADS_TABLE, with_all_columns
from lake.quarantine import QUARANTINE_TABLE


@dataclass
class Verification:
    entries: int = 0
    unchained: int = 0  # entries written before the ledger was chained
    files: int = 0
    snapshots: int = 0
    head: tuple[int, str] | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_lake(
    catalog: Catalog, table: str | None = None, year: int | None = None, kept_head: str | None = None
) -> Verification:
    """Check the chain (always whole) and the files and snapshots of `table`/`year` (default all)."""
    out = Verification()
    try:
        ledger = with_all_columns(catalog.load_table(LOADS_TABLE).scan().to_arrow()).to_pylist()
    except NoSuchTableError:
        ledger = []
    chained = sorted((e for e in ledger if e["seq"] is not None), key=lambda e: e["seq"])
    out.entries, out.unchained = len(chained), len(ledger) - len(chained)
    _check_chain(chained, out)
    _check_removals(chained, out)
    if kept_head and not any(e["entry_hash"] == kept_head for e in chained):
        out.problems.append(f"the kept chain head {kept_head} is not in the ledger: its history was rewritten")
    tables = {e["table_name"] for e in chained} | {QUARANTINE_TABLE}
    for name in sorted(tables):
        if table is not None and name not in (table, QUARANTINE_TABLE):
            continue
        try:
            iceberg = catalog.load_table(name)
        except NoSuchTableError:
            if any(_registers(e, name) for e in chained):
                out.problems.append(f"table {name} is gone, but the ledger has loads of it")
            continue
        _check_files(iceberg, name, chained, table, year, out)
        _check_snapshots(iceberg, name, chained, out)
    return out


def _label(e: dict[str, Any]) -> str:
    return f"ledger entry #{e['seq']} (load {e['load_id']}, {e['table_name']} FY{e['fiscal_year']})"


def _check_chain(chained: list[dict[str, Any]], out: Verification) -> None:
    previous: dict[str, Any] | None = None
    for e in chained:
        if e["entry_hash"] != entry_hash(e):
            out.problems.append(f"{_label(e)} was edited: its content no longer matches its hash")
        expected_seq = 1 if previous is None else previous["seq"] + 1
        if e["seq"] == expected_seq - 1 and previous is not None:
            out.problems.append(f"{_label(e)} repeats sequence number {e['seq']} (a forked chain)")
        elif e["seq"] > expected_seq:
            gap = f"#{expected_seq}" + (f"..#{e['seq'] - 1}" if e["seq"] - 1 > expected_seq else "")
            out.problems.append(f"ledger entry {gap} was removed (the chain jumps to #{e['seq']})")
        elif e["prev_hash"] != (GENESIS if previous is None else previous["entry_hash"]):
            out.problems.append(f"{_label(e)} does not chain to the entry before it (replaced or reordered)")
        previous = e
    if previous is not None:
        out.head = (previous["seq"], previous["entry_hash"])


def _check_removals(chained: list[dict[str, Any]], out: Verification) -> None:
    """An entry that removed rows accounts for them against the partition's previous entry."""
    previous: dict[tuple, dict[str, Any]] = {}
    for e in chained:
        key = (e["table_name"], e["fiscal_year"], e["source"])
        if e.get("erased") is not None:
            before = previous.get(key)
            if before is None:
                out.problems.append(f"{_label(e)} removes {e['erased']} rows from a partition no load made")
            else:
                held = before["loaded"] + before["quarantined"]
                if held - e["erased"] != e["loaded"] + e["quarantined"]:
                    out.problems.append(
                        f"{_label(e)} says it removed {e['erased']} rows, but the partition held {held} "
                        f"rows before it and {e['loaded'] + e['quarantined']} after"
                    )
        previous[key] = e


def _registers(e: dict[str, Any], table: str) -> bool:
    """Whether the entry committed to `table` (a snapshot or a data file of it)."""
    snapshot = e["quarantine_snapshot_id"] if table == QUARANTINE_TABLE else e["snapshot_id"]
    made = snapshot is not None and (table == QUARANTINE_TABLE or e["table_name"] == table)
    return made or any(f["table"] == table for f in read_file_list(e["data_files"]))


def _partition_key(e: dict[str, Any], table: str) -> tuple:
    entity = e["table_name"].removeprefix("raw.")
    return (entity, e["fiscal_year"], e["source"]) if table == QUARANTINE_TABLE else (e["fiscal_year"], e["source"])


def _check_files(
    iceberg: Table,
    name: str,
    chained: list[dict[str, Any]],
    only_table: str | None,
    year: int | None,
    out: Verification,
) -> None:
    """The files of each partition must be those of its newest load, byte for byte."""
    newest: dict[tuple, dict[str, Any]] = {}
    for e in chained:  # in sequence order: the later load of a partition replaced the earlier
        if name == QUARANTINE_TABLE and only_table is not None and e["table_name"] != only_table:
            continue
        if e["table_name"] == name or name == QUARANTINE_TABLE:
            newest[_partition_key(e, name)] = e
    expected: dict[str, tuple[dict[str, Any], str]] = {}
    for e in newest.values():
        if year is not None and e["fiscal_year"] != year:
            continue
        for f in read_file_list(e["data_files"]):
            if f["table"] == name:
                expected[f["path"]] = (e, f["sha256"])
    current: dict[str, tuple] = {}
    if iceberg.current_snapshot() is not None:
        for task in iceberg.scan().plan_files():
            record = task.file.partition
            values = tuple(record[i] for i in range(len(record)))
            current[task.file.file_path] = values
    for path, values in sorted(current.items()):
        if year is not None and year not in values:
            continue
        if name == QUARANTINE_TABLE and only_table is not None and values[:1] != (only_table.removeprefix("raw."),):
            continue
        out.files += 1
        if path not in expected:
            out.problems.append(f"data file {path} in {name} was not registered by any ledger entry")
            continue
        e, sha = expected[path]
        try:
            actual = _stored_sha256(iceberg, path)
        except FileNotFoundError:
            out.problems.append(f"data file {path} of {_label(e)} was deleted from storage")
            continue
        if actual != sha:
            out.problems.append(
                f"data file {path} of {_label(e)} was changed (sha256 {actual[:12]}..., recorded {sha[:12]}...)"
            )
    for path, (e, _sha) in sorted(expected.items()):
        if path not in current:
            out.problems.append(f"data file {path} of {_label(e)} was removed from {name}")


def _stored_sha256(iceberg: Table, path: str) -> str:
    if path.startswith("file://") or "://" not in path:
        return sha256_file(path.removeprefix("file://"))
    import hashlib

    digest = hashlib.sha256()
    try:
        with iceberg.io.new_input(path).open() as fh:
            while block := fh.read(8 << 20):
                digest.update(block)
    except OSError as err:
        raise FileNotFoundError(path) from err
    return digest.hexdigest()


def _check_snapshots(iceberg: Table, name: str, chained: list[dict[str, Any]], out: Verification) -> None:
    """Every snapshot kept must be a load's (or the delete half of a load's commit)."""
    column = "quarantine_snapshot_id" if name == QUARANTINE_TABLE else "snapshot_id"
    recorded = {e[column] for e in chained if (e["table_name"] == name or name == QUARANTINE_TABLE)}
    recorded.discard(None)
    loads_of = defaultdict(set)
    for e in chained:
        loads_of[e[column]].add(e["load_id"])
    by_id = {s.snapshot_id: s for s in iceberg.snapshots()}
    explained = set(recorded)
    for sid in recorded:  # a load's commit is a delete then an add: the delete is its parent
        snap = by_id.get(sid)
        parent = by_id.get(snap.parent_snapshot_id) if snap and snap.parent_snapshot_id else None
        if parent is not None and _load_id(parent) in loads_of[sid]:
            explained.add(parent.snapshot_id)
    for sid, snap in sorted(by_id.items(), key=lambda kv: kv[1].timestamp_ms):
        out.snapshots += 1
        if sid not in explained:
            out.problems.append(
                f"snapshot {sid} of {name} ({snap.summary.operation.value if snap.summary else '?'}) "
                "is explained by no ledger entry"
            )


def _load_id(snapshot) -> str | None:
    return snapshot.summary.additional_properties.get("civic.load-id") if snapshot.summary else None
