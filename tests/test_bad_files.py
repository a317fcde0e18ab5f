"""The bad-file corpus (tests/bad_files/cases.py) through the readers and the contracts:
each file is refused with a message naming it, or every planted bad row is quarantined
with its rule and a message that shows the value, and every other row is loaded with the
value it was written with. The counts are printed for the issue's closing note."""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pyarrow.parquet as pq
import pytest

from contracts.entities import FEED_REJECTED, entity
from contracts.errors import ContractError
from contracts.rules import LoadContext
from ingestion import readers
from ingestion.errors import SourceFileError
from ingestion.staging import file_batches, validate_batches
from tests.bad_files.cases import CASES, Case


def _load(case: Case, tmp_path: Path, monkeypatch) -> tuple[pl.DataFrame, pl.DataFrame]:
    if case.block_bytes:
        monkeypatch.setattr(readers, "BLOCK_BYTES", case.block_bytes)
    path = tmp_path / case.filename
    path.write_bytes(case.content)
    spec = entity(case.entity)
    ctx = LoadContext(2024, known_services=frozenset({"S1"}), time_zone=case.time_zone, epoch_unit=case.epoch_unit)
    valid, rejects = [], []
    for _path, received, ok, bad in validate_batches(spec, file_batches(spec, [path]), ctx, None):
        assert received == ok.height + bad.height
        valid.append(ok)
        rejects.append(bad)
    return (
        pl.concat(valid, how="diagonal_relaxed") if valid else pl.DataFrame(),
        pl.concat(rejects, how="diagonal_relaxed") if rejects else pl.DataFrame(),
    )


def _written_times(case: Case, tmp_path: Path) -> dict[tuple[str, str], dt.datetime]:
    """(id, column) -> the local time written, read back by another reader (csv,
    pyarrow) and converted by zoneinfo: a time with an offset (or a zoned Parquet
    timestamp) in the declared zone, a number in its epoch unit, a plain time as it is."""
    path = tmp_path / case.filename
    spec = entity(case.entity)
    if path.suffix == ".parquet":
        records = pq.read_table(path).to_pylist()
    else:
        records = list(csv.DictReader(path.read_text().splitlines()))
    zone = ZoneInfo(case.time_zone) if case.time_zone else None
    per_second = {"s": 1, "ms": 1e3, "us": 1e6, "ns": 1e9}
    out = {}
    for record in records:
        for column in case.time_columns:
            value = record[column]
            if isinstance(value, str):
                value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            elif isinstance(value, int):
                assert case.epoch_unit
                value = dt.datetime.fromtimestamp(value / per_second[case.epoch_unit], dt.UTC)
            if value.tzinfo is not None and zone is not None:
                value = value.astimezone(zone).replace(tzinfo=None)
            out[record[spec.id_column], column] = value
    return out


def _written_values(case: Case, tmp_path: Path) -> dict[str, float]:
    """id -> the number written, read back from the file by another reader."""
    path = tmp_path / case.filename
    if path.suffix == ".parquet":
        frame = pl.read_parquet(path)
    elif path.suffix == ".jsonl":
        frame = pl.read_ndjson(path, infer_schema_length=None)
    else:
        frame = pl.read_csv(path, infer_schema=False)
    spec = entity(case.entity)
    out = {}
    for row in frame.iter_rows(named=True):
        try:
            out[row[spec.id_column]] = float(row[case.value_column])
        except (TypeError, ValueError):
            pass
    return out


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_file(case: Case, tmp_path, monkeypatch):
    if case.refused:
        with pytest.raises((SourceFileError, ContractError), match=case.refused):
            _load(case, tmp_path, monkeypatch)
        return
    valid, rejects = _load(case, tmp_path, monkeypatch)
    spec = entity(case.entity)
    loaded = valid[spec.id_column].to_list() if valid.height else []
    assert sorted(loaded) == sorted(case.good_ids)
    assert rejects.height == len(case.bad_ids)
    rows = [json.loads(r) for r in rejects["row"]] if rejects.height else []
    # (a line that is not JSON has no id to show)
    named = [r[spec.id_column] for r in rows if r.get(spec.id_column) is not None]
    assert set(named) <= set(case.bad_ids) and len(named) >= len(case.bad_ids) - sum(FEED_REJECTED in r for r in rows)
    if case.rule:
        assert set(rejects["rule"]) == {case.rule}
        assert all(case.message in m for m in rejects["message"]), rejects["message"].to_list()
    if case.value_column:
        written = _written_values(case, tmp_path)
        wrong = [
            (i, v, written.get(i))
            for i, v in zip(valid[spec.id_column], valid[case.value_column])
            if v is None or not math.isfinite(v) or v != pytest.approx(written.get(i))
        ]
        assert not wrong
    if case.time_columns and valid.height:
        written = _written_times(case, tmp_path)
        for column in case.time_columns:
            got = {(i, column): v for i, v in zip(valid[spec.id_column], valid[column])}
            assert got == {k: written[k] for k in got}
        if {"issued_at", "called_at"} <= set(case.time_columns):  # no false negative wait
            assert (valid["called_at"] >= valid["issued_at"]).all()


def test_corpus_counts(capsys):
    """The corpus is as large as the note says, and every planted row has a verdict."""
    refused = [c for c in CASES if c.refused]
    planted = sum(len(c.bad_ids) for c in CASES)
    rows = sum(len(c.expect_ids) for c in CASES)
    print(f"bad-file cases {len(CASES)} ({len(refused)} refused files), bad rows planted {planted}, rows {rows}")
    assert len(CASES) >= 25 and planted >= 20
    assert len({c.name for c in CASES}) == len(CASES)
