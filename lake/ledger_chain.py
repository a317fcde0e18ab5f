"""The hash chain of the load ledger: each entry's hash covers its content and the
previous entry's hash, so no entry can be edited, removed or reordered unnoticed.

An entry's content is the load's metadata (ids, counts, times, code version), the
Iceberg snapshot ids it made, and the SHA-256 of every data file it registered (raw
and quarantine) and of every local source file it read. The newest entry's hash, the
chain head, is printed by every refresh: whoever kept an earlier head can show that
the history up to it was not rewritten (`civic verify --head`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

# Every ledger field an entry's hash covers (all but the hash itself), in this order.
CHAINED_FIELDS = (
    "seq",
    "prev_hash",
    "load_id",
    "table_name",
    "fiscal_year",
    "source",
    "feed",
    "received",
    "loaded",
    "quarantined",
    "snapshot_id",
    "quarantine_snapshot_id",
    "files",
    "started_at",
    "finished_at",
    "seconds",
    "code_version",
    "run_id",
    "data_files",
    "source_files",
)
# Fields added later, covered only when set, so the entries written before them keep
# their hashes: `erased` is the rows an erasure or retention entry removed (None: a load).
OPTIONAL_CHAINED_FIELDS = ("erased",)
GENESIS = "0" * 64  # the previous hash of the first entry


def sha256_file(path: Path | str, chunk: int = 8 << 20) -> str:
    """The SHA-256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def _canonical(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None).isoformat(timespec="microseconds")
    if isinstance(value, float):
        return repr(value)
    return value


def entry_hash(entry: dict[str, Any]) -> str:
    """The hash of one ledger entry: SHA-256 of its chained fields as canonical JSON."""
    content = {name: _canonical(entry.get(name)) for name in CHAINED_FIELDS}
    content |= {name: entry[name] for name in OPTIONAL_CHAINED_FIELDS if entry.get(name) is not None}
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()


def file_list(files: list[tuple[str, str, str]]) -> str:
    """(table, location, sha256) of the files a load registered, as the ledger stores them."""
    return json.dumps([{"table": t, "path": p, "sha256": h} for t, p, h in sorted(files)], separators=(",", ":"))


def read_file_list(text: str | None) -> list[dict[str, str]]:
    return json.loads(text) if text else []
