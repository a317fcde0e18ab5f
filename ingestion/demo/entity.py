"""What the generic writer needs to know about one row-level entity.

Why a spec: queue events, web sessions, requests and survey responses differ only in their
segments, their row builder and their file format; chunking, shuffling, bad rows, ids and
writing are shared (pipeline.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from ingestion.demo.parameters import DemoPlan

SegmentsFn = Callable[[DemoPlan, int], pl.DataFrame]
# (rows with segment attributes + local/logical/rng, year, plan) -> output columns, times as epoch seconds
BuildFn = Callable[[pl.DataFrame, int, DemoPlan], pl.DataFrame]
SpoilFn = Callable[[pl.DataFrame], pl.DataFrame]


@dataclass(frozen=True)
class EntitySpec:
    name: str
    id_column: str
    id_prefix: str
    columns: dict[str, pl.DataType]  # output columns in file order (times as pl.Datetime)
    kinds: tuple[str, ...]  # bad-row kinds planted in this entity
    fmt: str  # 'parquet' | 'csv' | 'jsonl'
    file_name: str  # parquet: a pattern with {part}
    segments: SegmentsFn
    build: BuildFn
    spoil: SpoilFn | None = None  # entity-specific kinds; `kind` is null on good rows

    @property
    def time_columns(self) -> tuple[str, ...]:
        return tuple(c for c, t in self.columns.items() if isinstance(t, pl.Datetime))
