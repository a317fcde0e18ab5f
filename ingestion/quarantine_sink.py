"""Rejected rows of one load, streamed to a local Parquet file beside the staged data."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

from contracts.staged import QUARANTINE_ARROW


class QuarantineSink:
    def __init__(self, path: Path, entity: str, fiscal_year: int | None, load_id: str, source: str):
        self.path = path
        self.entity, self.fiscal_year, self.load_id, self.source = entity, fiscal_year, load_id, source
        self.rows = 0
        self._writer: pq.ParquetWriter | None = None

    def write(self, rejects: pl.DataFrame, source_file: str) -> None:
        if rejects.height == 0:
            return
        frame = rejects.select(
            pl.lit(self.entity).alias("entity"),
            pl.col("fiscal_year").cast(pl.Int32),
            pl.lit(self.load_id).alias("load_id"),
            pl.lit(self.source).alias("source"),
            pl.lit(source_file).alias("source_file"),
            "rule",
            "column",
            "message",
            "row",
        )
        table = frame.to_arrow().cast(QUARANTINE_ARROW)
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = pq.ParquetWriter(self.path, QUARANTINE_ARROW)
        self._writer.write_table(table)
        self.rows += frame.height

    def close(self) -> Path | None:
        if self._writer is None:
            return None
        self._writer.close()
        return self.path
