"""What a feed kind is: the entities it gives and, per entity, the files it reads and how."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from contracts.entities import ENTITIES, FEED_REJECTED
from ingestion.errors import SourceFileError
from ingestion.readers import text_value

BATCH_ROWS = 50_000

# One file's Arrow batches, given what the kind prepared for the load (by default the
# kind itself, for its `observed_at`) and the file.
FileBatches = Callable[[Any, Path], Iterable[pa.RecordBatch]]


@dataclass(frozen=True)
class Reads:
    """How a kind reads one entity: the files of a location it takes and what each gives."""

    files: Callable[[str], list[Path]]
    batches: FileBatches
    # What the files' batches share, prepared once per load from (kind, location, files)
    # before any is read; None = the kind itself.
    prepare: Callable[[FeedKind, str, list[Path]], Any] | None = None


def mapped(records: Callable[[Any, Path], list[dict]], columns: dict[str, str]) -> FileBatches:
    """The batches of a file read as records, `columns` naming the canonical ones."""
    return lambda prepared, path: text_batches(records(prepared, path), columns)


def suffixed(suffixes: tuple[str, ...], must_contain: str = "") -> Callable[[str], list[Path]]:
    """The files of a location with one of the suffixes (see `files_in`)."""
    return lambda location: files_in(location, suffixes, must_contain)


class FeedKind:
    """The reader of one published format: which entities it gives and how it reads them."""

    kind: str = ""
    # When the user states the moment a snapshot feed was taken (`--observed-at`), for
    # feeds that carry no time of their own; None = from the file (name) or an error.
    observed_at: dt.datetime | None = None
    # Where a kind that remembers an endpoint between runs keeps its state
    # (Settings.state_dir, given by the caller); None = none (an endpoint is refused).
    state_dir: Path | None = None
    # How the kind's files write day/month/year dates (`mdy`, `dmy`; None: undeclared, a
    # date that reads two ways is quarantined); a feeds.yml entry's `date_order` wins.
    date_order: str | None = None
    # The IANA zone of the kind's local times and the unit of its epoch numbers (None:
    # undeclared, see contracts.coerce); a feeds.yml entry's `time_zone`/`epoch_unit` win.
    time_zone: str | None = None
    epoch_unit: str | None = None
    # Entities in load order: dated entities first, so reference data (a service
    # catalogue without dates) can be filed under the fiscal years they cover.
    entities: tuple[str, ...] = ()
    # entity -> how it is read; an entity the kind does not give yields nothing
    reads: dict[str, Reads] = {}

    def extract(self, location: str, entity: str) -> Iterator[tuple[str, pa.RecordBatch]]:
        """(file, Arrow batch) pairs of one entity, file by file in the order found."""
        reads = self.reads.get(entity)
        if reads is None:
            return
        paths = reads.files(location)
        prepared = self if reads.prepare is None else reads.prepare(self, location, paths)
        for path in paths:
            for batch in reads.batches(prepared, path):
                yield str(path), batch


# The record key under which a kind says why it cannot map a row.
REASON = "_reason"


def text_field(record: dict, key: str) -> str | None:
    """A record's value that must be text (a status, an address): a number or an object
    there is not guessed at; the record gets the reason under REASON and None is used."""
    value = record.get(key)
    if value is None or isinstance(value, str):
        return value
    record.setdefault(REASON, f"{key} {text_value(value)} is not text: not loaded")
    return None


def computed_columns(entity: str) -> dict[str, str]:
    """Canonical column -> record key for a kind that computes every canonical value
    (under `_<column>`, so it is not also kept as a source column), plus the reason a
    kind gives for a row it rejects (quarantined under rule `source_rejected`)."""
    return {**{column: f"_{column}" for column in ENTITIES[entity].columns}, FEED_REJECTED: REASON}


def files_in(location: str, suffixes: tuple[str, ...], must_contain: str = "") -> list[Path]:
    """The files a location names: itself, or those of a directory matching the pattern."""
    path = Path(location)
    if path.is_file():
        return [path] if must_contain in path.name.lower() else []
    if path.is_dir():
        return sorted(
            p for p in path.iterdir() if p.is_file() and p.suffix.lower() in suffixes and must_contain in p.name.lower()
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
        arrays = {name: [text_value(r.get(columns[name])) for r in chunk] for name in names}
        # a source column that shares a canonical name is kept as source_<name>
        arrays.update({kept_name(name, columns): [text_value(r.get(name)) for r in chunk] for name in extras})
        yield pa.RecordBatch.from_pydict({k: pa.array(v, pa.string()) for k, v in arrays.items()})


def kept_name(name: str, canonical) -> str:
    return f"source_{name}" if name in canonical else name
