"""Read landing files as Arrow record batches, streaming, whatever their format.

CSV and JSON text is read as strings so that one odd value quarantines one row (the
contract coerces types) instead of failing the file. Parquet keeps its own types.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.json as pajson
import pyarrow.parquet as pq

from ingestion.errors import SourceFileError

BLOCK_BYTES = 16 << 20
PARQUET_BATCH_ROWS = 262_144
FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".parquet": "parquet"}


def file_format(path: Path) -> str:
    try:
        return FORMATS[path.suffix.lower()]
    except KeyError:
        raise SourceFileError(str(path), f"unsupported file type {path.suffix!r}") from None


def iter_batches(path: Path, text_columns: tuple[str, ...] = ()) -> Iterator[pa.RecordBatch]:
    """Stream a landing file as record batches; SourceFileError if it cannot be read.

    `text_columns` are read as text from JSON (type inference per block would otherwise
    fail a file whose later block holds one odd value).
    """
    fmt = file_format(path)
    try:
        if fmt == "csv":
            yield from _csv(path)
        elif fmt == "jsonl":
            yield from _jsonl(path, text_columns)
        else:
            yield from _parquet(path)
    except SourceFileError:
        raise
    except (pa.ArrowInvalid, pa.ArrowException, OSError, UnicodeDecodeError, csv.Error) as err:
        raise SourceFileError(str(path), str(err).splitlines()[0]) from err


def _csv(path: Path) -> Iterator[pa.RecordBatch]:
    with open(path, newline="", encoding="utf-8-sig") as fh:
        header = next(csv.reader(fh), None)
    if not header:
        raise SourceFileError(str(path), "the file is empty (no header row)")
    reader = pacsv.open_csv(
        path,
        read_options=pacsv.ReadOptions(block_size=BLOCK_BYTES, encoding="utf8"),
        convert_options=pacsv.ConvertOptions(
            column_types={name: pa.string() for name in header}, strings_can_be_null=True
        ),
    )
    for batch in reader:
        if batch.num_rows:
            yield batch


def _jsonl(path: Path, text_columns: tuple[str, ...]) -> Iterator[pa.RecordBatch]:
    if path.stat().st_size == 0:
        return
    reader = pajson.open_json(
        path,
        read_options=pajson.ReadOptions(block_size=BLOCK_BYTES),
        parse_options=pajson.ParseOptions(
            explicit_schema=pa.schema([(c, pa.string()) for c in text_columns]) if text_columns else None,
            unexpected_field_behavior="infer",
            newlines_in_values=False,
        ),
    )
    for batch in reader:
        if batch.num_rows:
            yield batch


def _parquet(path: Path) -> Iterator[pa.RecordBatch]:
    pf = pq.ParquetFile(path)
    yield from pf.iter_batches(batch_size=PARQUET_BATCH_ROWS)
