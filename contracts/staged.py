"""What a load hands over from staging (ingestion) to the commit (lake).

Both sides import this module and neither imports the other (ingestion -> contracts ->
lake): `StagedLoad` is the one record of a staged load, returned by
`ingestion.staging.stage_batches` and taken by `lake.raw_commit.commit_staged`;
`QUARANTINE_ARROW` is the schema of the quarantine file it stages and of the
`quarantine.rejected_rows` table that file is committed to.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import pyarrow as pa

QUARANTINE_ARROW = pa.schema(
    [
        ("entity", pa.string()),
        ("fiscal_year", pa.int32()),
        ("load_id", pa.string()),
        ("source", pa.string()),
        ("source_file", pa.string()),
        ("rule", pa.string()),
        ("column", pa.string()),
        ("message", pa.string()),
        ("row", pa.string()),
    ]
)


@dataclass
class StagedLoad:
    """What a load staged, with its row accounting (received = loaded + quarantined)."""

    entity: str
    # the fiscal year it was staged for; None: it spans several years (each row took the
    # fiscal year of its event) and is committed year by year
    fiscal_year: int | None
    load_id: str
    source: str  # the feed: `_source` of its rows
    data_files: list[Path]
    quarantine_file: Path | None
    received: int = 0
    loaded: int = 0
    quarantined: int = 0
    files: list[str] = field(default_factory=list)  # the source files read
    seconds: dict[str, float] = field(default_factory=dict)
    # per fiscal year (None: rows whose fiscal year could not be told, all quarantined)
    loaded_by_year: dict[int | None, int] = field(default_factory=dict)
    quarantined_by_year: dict[int | None, int] = field(default_factory=dict)
    # the load's own working directory (staged files, scratch space of the commit);
    # discarded once the lake has committed or refused the load
    work_dir: Path | None = None
    # source file -> SHA-256 of its bytes, for the local files read (the ledger chains them)
    source_hashes: dict[str, str] = field(default_factory=dict)

    def count(self, into: dict[int | None, int], years: pl.Series) -> None:
        for year, n in years.value_counts().iter_rows():
            into[year] = into.get(year, 0) + n

    @property
    def balanced(self) -> bool:
        return self.received == self.loaded + self.quarantined
