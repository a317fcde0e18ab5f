"""What a source kind is: entities it produces and a reader of (file, Arrow batch) pairs."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa

from contracts.entities import ENTITIES, SOURCE_REJECTED
from ingestion.errors import SourceFileError

BATCH_ROWS = 50_000


class Source:
    kind: str = ""
    # When the user states the moment a snapshot feed was taken (`--observed-at`), for
    # feeds that carry no time of their own; None = from the file (name) or an error.
    observed_at: "dt.datetime | None" = None
    # Where a source that remembers an endpoint between runs keeps its state
    # (Settings.state_dir, given by the caller); None = none (an endpoint is refused).
    state_dir: Path | None = None
    # Entities in load order: dated entities first, so reference data (a service
    # catalogue without dates) can be filed under the fiscal years they cover.
    entities: tuple[str, ...] = ()

    def extract(self, location: str, entity: str) -> Iterator[tuple[str, pa.RecordBatch]]:
        raise NotImplementedError


# The record key under which a source says why it cannot map a row.
REASON = "_reason"


def computed_columns(entity: str) -> dict[str, str]:
    """Canonical column -> record key for a source that computes every canonical value
    (under `_<column>`, so it is not also kept as a source column), plus the reason a
    source gives for a row it rejects (quarantined under rule `source_rejected`)."""
    return {**{column: f"_{column}" for column in ENTITIES[entity].columns}, SOURCE_REJECTED: REASON}


def files_in(location: str, suffixes: tuple[str, ...], must_contain: str = "") -> list[Path]:
    """The files a location names: itself, or those of a directory matching the pattern."""
    path = Path(location)
    if path.is_file():
        return [path] if must_contain in path.name.lower() else []
    if path.is_dir():
        return sorted(
            p for p in path.iterdir()
            if p.is_file() and p.suffix.lower() in suffixes and must_contain in p.name.lower()
        )
    raise SourceFileError(location, "no such file or directory")


def read_json_records(path: Path) -> list[dict]:
    """A JSON array of records (API responses are pages of at most a few MB)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise SourceFileError(str(path), f"not valid JSON ({err})") from err
    if isinstance(data, dict):
        for key in ("data", "records", "requests", "services", "results"):
            if isinstance(data.get(key), list):
                data = data[key]
                break
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise SourceFileError(str(path), "expected a JSON array of objects")
    return data


def read_csv_records(path: Path) -> tuple[list[str], list[dict]]:
    """A whole CSV file (a published table of a few MB) as (header, rows of text)."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.DictReader(f)
            rows = list(reader)
            return list(reader.fieldnames or []), rows
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise SourceFileError(str(path), f"not a readable CSV ({err})") from err


def text_batches(records: list[dict], columns: dict[str, str]) -> Iterator[pa.RecordBatch]:
    """Records as all-text Arrow batches: canonical names from `columns` (canonical ->
    source key), every other key kept under its own name; absent keys are nulls."""
    names = list(columns)
    extras = sorted({k for r in records for k in r if not k.startswith("_")} - set(columns.values()))
    for start in range(0, len(records), BATCH_ROWS):
        chunk = records[start : start + BATCH_ROWS]
        arrays = {name: [_text(r.get(columns[name])) for r in chunk] for name in names}
        # a source column that shares a canonical name is kept as source_<name>
        arrays.update({kept_name(name, columns): [_text(r.get(name)) for r in chunk] for name in extras})
        yield pa.RecordBatch.from_pydict({k: pa.array(v, pa.string()) for k, v in arrays.items()})


def kept_name(name: str, canonical) -> str:
    return f"source_{name}" if name in canonical else name


def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)
