"""Chunked, deterministic file writers for the landing formats.

Why chunked: a large year (tens of millions of rows) is written as it is generated, so
memory stays bounded: Parquet as one part file per chunk, CSV and JSON lines streamed into
one file. Timestamps are naive timestamp[us] in Parquet and ISO 8601 text elsewhere.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from ingestion.demo.clock import ISO, to_timestamp

_ARROW = {
    pl.String: pa.string(),
    pl.Float64: pa.float64(),
    pl.Boolean: pa.bool_(),
    pl.Int32: pa.int32(),
    pl.Int64: pa.int64(),
}


def _arrow_type(dtype: pl.DataType) -> pa.DataType:
    if isinstance(dtype, pl.Datetime):
        return pa.timestamp("us")
    return _ARROW[dtype]


class ChunkWriter:
    """Write chunks of one entity-year; `files` lists what was written (relative names)."""

    def __init__(self, folder: Path, fmt: str, file_name: str, columns: dict[str, pl.DataType]):
        self.folder, self.fmt, self.file_name, self.columns = folder, fmt, file_name, columns
        self.files: list[str] = []
        self._handle = None
        self._schema = pa.schema([(c, _arrow_type(t)) for c, t in columns.items()])
        folder.mkdir(parents=True, exist_ok=True)

    def __enter__(self) -> ChunkWriter:
        return self

    def __exit__(self, *exc) -> None:
        if self._handle is not None:
            self._handle.close()

    def write(self, df: pl.DataFrame) -> None:
        """`df` holds the output columns; time columns as epoch seconds."""
        times = [c for c, t in self.columns.items() if isinstance(t, pl.Datetime)]
        if self.fmt == "parquet":
            df = df.with_columns([to_timestamp(pl.col(c)).alias(c) for c in times])
            table = df.select(list(self.columns)).to_arrow().cast(self._schema)
            name = self.file_name.format(part=len(self.files))
            pq.write_table(table, self.folder / name, compression="zstd")
            self.files.append(name)
            return
        df = df.with_columns([to_timestamp(pl.col(c)).dt.strftime(ISO).alias(c) for c in times])
        df = df.select(list(self.columns))
        if self._handle is None:
            self._handle = open(self.folder / self.file_name, "wb")
            self.files.append(self.file_name)
            first = True
        else:
            first = False
        if self.fmt == "csv":
            df.write_csv(self._handle, include_header=first)
        elif self.fmt == "jsonl":
            df.write_ndjson(self._handle)
        else:
            raise ValueError(f"unknown landing format {self.fmt!r}")
