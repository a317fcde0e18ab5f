"""Replace one fiscal year of one table in a single atomic Iceberg commit.

Staged Parquet files are placed in the table's data folder (hard-linked on the same local
filesystem, copied to S3) and registered with `add_files`; the year's previous files are
dropped by a partition delete in the same transaction. Re-running a year is idempotent, a
crash leaves the previous snapshot in place, and readers never see half a load. Earlier
snapshots stay readable (time travel).
"""

from __future__ import annotations

import errno
import os
import shutil
import uuid
import warnings
from pathlib import Path
from urllib.parse import urlparse

import pyarrow.parquet as pq
from pyiceberg.expressions import And, BooleanExpression, EqualTo, IsNull, Reference
from pyiceberg.expressions.literals import literal
from pyiceberg.table import Table


def partition_filter(fiscal_year: int | None, **equals: str) -> BooleanExpression:
    """Rows of one fiscal year (None: rows whose fiscal year could not be told)."""
    expr = IsNull(term=Reference("fiscal_year")) if fiscal_year is None else equal_to("fiscal_year", fiscal_year)
    for col, value in equals.items():
        expr = And(expr, equal_to(col, value))
    return expr


def equal_to(column: str, value: int | str) -> BooleanExpression:
    """`column = value` (built by keyword: pyiceberg's expressions are pydantic models)."""
    return EqualTo(term=Reference(column), value=literal(value))


def _local_path(location: str) -> Path | None:
    """The filesystem path of a `file://` (or scheme-less) location, read as pyiceberg's
    PyArrowFileIO reads it; None for S3 and the like."""
    parsed = urlparse(location)
    if not parsed.scheme:
        return Path(os.path.abspath(location))
    if parsed.scheme == "file":
        return Path(f"{parsed.netloc}{parsed.path}")
    return None


def _place_in_table(table: Table, local: Path, target: str) -> None:
    """Put a staged file into the table's data folder: a hard link on the same local
    filesystem (no byte is copied, and the staged file stays its caller's, as with a
    copy), else a streamed copy (S3, another disk). An existing target is replaced."""
    dest = _local_path(target)
    if dest is not None:
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.{uuid.uuid4().hex}.tmp")
        try:
            os.link(local, tmp)
        except OSError as err:
            if err.errno not in _NO_LINK:
                raise
        else:
            os.replace(tmp, dest)
            tmp.unlink(missing_ok=True)  # rename(2) leaves both names when dest is the same file
            return
    with open(local, "rb") as src, table.io.new_output(target).create(overwrite=True) as dst:
        shutil.copyfileobj(src, dst, length=8 << 20)


# another filesystem, or one without hard links: copy instead
_NO_LINK = {errno.EXDEV, errno.EPERM, errno.EMLINK, errno.EOPNOTSUPP, errno.ENOTSUP}


def replace_partition(
    table: Table,
    staged_files: list[Path],
    row_filter: BooleanExpression,
    partition_path: str,
    file_prefix: str,
    properties: dict[str, str],
    placed: list[tuple[Path, str]] | None = None,
) -> int | None:
    """Swap the rows matching `row_filter` for the staged files; return the new snapshot id.
    `placed` receives (staged file, location in the table) of each file registered."""
    targets: list[str] = []
    for i, local in enumerate(staged_files):
        if pq.ParquetFile(local).metadata.num_rows == 0:
            continue
        target = f"{table.location()}/data/{partition_path}/{file_prefix}-{i:05d}.parquet"
        _place_in_table(table, local, target)
        targets.append(target)
        if placed is not None:
            placed.append((local, target))
    props = {k: str(v) for k, v in properties.items()}
    with table.transaction() as tx, warnings.catch_warnings():
        # A first load of a year has nothing to delete; that is not worth a warning.
        warnings.filterwarnings("ignore", message="Delete operation did not match any records")
        tx.delete(row_filter, snapshot_properties=props)
        if targets:
            tx.add_files(targets, snapshot_properties=props, check_duplicate_files=False)
    table.refresh()
    snap = table.current_snapshot()
    return snap.snapshot_id if snap else None
