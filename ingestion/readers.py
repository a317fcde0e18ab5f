"""Read landing files as Arrow record batches, streaming, whatever their format.

CSV and JSON text is read as strings so that one odd value quarantines one row (the
contract coerces types) instead of failing the file. Parquet keeps its own types.

A record that cannot be read as a row of its file (a CSV row with more or fewer fields
than the header, a CSV file that ends inside a quoted value, a JSON line that is not an
object) is delivered as a row with the reason in `FEED_REJECTED` (quarantined by the
contract, rule `source_rejected`), its fields in the columns they came in; the file is
refused only when it cannot be read as a whole (no header, a duplicate header name).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.json as pajson
import pyarrow.parquet as pq

from contracts.entities import FEED_REJECTED
from ingestion.errors import SourceFileError

BLOCK_BYTES = 16 << 20
PARQUET_BATCH_ROWS = 262_144
JSON_FALLBACK_ROWS = 65_536
# Arrow's null spellings less NaN's: a NaN is a value the contract refuses (not_finite),
# not a figure the source left out.
CSV_NULLS = ["", "#N/A", "#N/A N/A", "#NA", "N/A", "NA", "NULL", "n/a", "null"]
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


def text_value(value) -> str | None:
    """A JSON value as the text a contract reads (objects and arrays as JSON)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def csv_header(path: Path) -> list[str]:
    """The header row; SourceFileError when there is none or a name repeats (a column
    could not be told from its twin)."""
    with open(path, newline="", encoding="utf-8-sig") as fh:
        header = next(csv.reader(fh), None)
    if not header:
        raise SourceFileError(str(path), "the file is empty (no header row)")
    seen: dict[str, int] = {}
    for i, name in enumerate(header, 1):
        if name in seen:
            raise SourceFileError(
                str(path), f"the header names column {name!r} twice (columns {seen[name]} and {i}, row 1)"
            )
        seen[name] = i
    return header


def _ends_inside_quotes(path: Path) -> bool:
    """An odd number of quote characters: the file was cut inside a quoted value."""
    quotes = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(BLOCK_BYTES):
            quotes += chunk.count(b'"')
    return quotes % 2 == 1


def _rejected_rows(header: list[str], rows: list[tuple[list[str | None], str]]) -> pa.RecordBatch:
    """Rows that are not rows of the file, their fields in the columns they came in."""
    cols: dict[str, list] = {name: [] for name in header}
    for fields, _reason in rows:
        for i, name in enumerate(header):
            cols[name].append(fields[i] if i < len(fields) else None)
    arrays = {name: pa.array(values, pa.string()) for name, values in cols.items()}
    arrays[FEED_REJECTED] = pa.array([reason for _fields, reason in rows], pa.string())
    return pa.RecordBatch.from_pydict(arrays)


def _csv(path: Path) -> Iterator[pa.RecordBatch]:
    header = csv_header(path)
    ragged: list[tuple[list[str | None], str]] = []

    def invalid_row(row) -> str:
        fields = next(csv.reader([row.text]), [])
        how = "ends early" if row.actual_columns < row.expected_columns else "has more fields than the header"
        ragged.append(
            (fields, f"the row {how} ({row.actual_columns} fields, the header has {row.expected_columns}): not loaded")
        )
        return "skip"

    reader = pacsv.open_csv(
        path,
        read_options=pacsv.ReadOptions(block_size=BLOCK_BYTES, encoding="utf8"),
        # a quoted line break (CR or LF) is part of its value, not the end of the row
        parse_options=pacsv.ParseOptions(newlines_in_values=True, invalid_row_handler=invalid_row),
        convert_options=pacsv.ConvertOptions(
            column_types={name: pa.string() for name in header}, strings_can_be_null=True, null_values=CSV_NULLS
        ),
    )
    cut = _ends_inside_quotes(path)
    held: pa.RecordBatch | None = None  # the last batch is held: its last row may be cut
    for batch in reader:
        if held is not None and held.num_rows:
            yield held
        held = batch
        if ragged:
            yield _rejected_rows(header, ragged)
            ragged.clear()
    if held is not None and held.num_rows:
        if cut:
            last = held.slice(held.num_rows - 1).to_pylist()[0]
            reason = "the file ends inside a quoted value: its last row is cut, not loaded"
            yield held.slice(0, held.num_rows - 1)
            yield _rejected_rows(header, [([last.get(name) for name in header], reason)])
        else:
            yield held


def _jsonl(path: Path, text_columns: tuple[str, ...]) -> Iterator[pa.RecordBatch]:
    if path.stat().st_size == 0:
        return
    done = 0
    try:
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
                done += batch.num_rows
                yield batch
    except pa.ArrowInvalid:
        # a value of another JSON type than its column's (one "12.50" among numbers) or
        # a line that is not JSON: the rest of the file is read line by line
        yield from _jsonl_lines(path, skip=done)


def _jsonl_lines(path: Path, skip: int) -> Iterator[pa.RecordBatch]:
    """The records after the first `skip`, one line each, every value as text; a line
    that is not a JSON object is a rejected row."""
    rows: list[dict] = []
    read_any = skip > 0
    with open(path, encoding="utf-8-sig") as fh:
        records = (line for line in fh if line.strip())
        for number, line in enumerate(records, 1):
            if number <= skip:
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                record = {FEED_REJECTED: f"record {number} is not valid JSON ({err.msg}): not loaded"}
            if not isinstance(record, dict):
                record = {FEED_REJECTED: f"record {number} is a JSON {type(record).__name__}, not an object"}
            rows.append(record)
            read_any = read_any or FEED_REJECTED not in record
            if len(rows) == JSON_FALLBACK_ROWS:
                yield _text_batch(path, rows, read_any)
                rows = []
    if rows:
        yield _text_batch(path, rows, read_any)


def _text_batch(path: Path, rows: list[dict], read_any: bool) -> pa.RecordBatch:
    if not read_any:  # not one object so far: not a JSON lines file (an HTML error page)
        raise SourceFileError(str(path), "not a JSON lines file: no line holds a JSON object")
    names = list(dict.fromkeys(k for r in rows for k in r))
    return pa.RecordBatch.from_pydict({n: pa.array([text_value(r.get(n)) for r in rows], pa.string()) for n in names})


def _parquet(path: Path) -> Iterator[pa.RecordBatch]:
    pf = pq.ParquetFile(path)
    yield from pf.iter_batches(batch_size=PARQUET_BATCH_ROWS)
