"""Where each planted row sits: segments in logical order, shuffled into file order.

Why: the plan is a short table of segments (service x role x count). Row i of the logical
order belongs to the segment whose range holds i, so any slice of rows can be generated on
its own (bounded memory, chunk-independent output). The file shows rows in the order of an
affine permutation p -> (a*p + b) mod N, which interleaves services and roles without
materialising a shuffle.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import polars as pl


@dataclass(frozen=True)
class Layout:
    segments: pl.DataFrame  # one row per non-empty segment, with 'n' and 'start'
    total: int
    mult: int
    offset: int

    @classmethod
    def of(cls, segments: pl.DataFrame, key: int) -> Layout:
        segments = segments.filter(pl.col("n") > 0).with_columns(
            start=(pl.col("n").cum_sum() - pl.col("n")).cast(pl.Int64)
        )
        total = int(segments["n"].sum()) if segments.height else 0
        mult, offset = 1, 0
        if total > 2:
            mult = int(total * 0.6180339887) + key % 97 + 1
            while math.gcd(mult, total) != 1:
                mult += 1
            offset = key % total
        return cls(segments, total, mult, offset)

    def logical(self, positions: pl.Expr) -> pl.Expr:
        """Logical index of the good row shown at file position `positions`."""
        return (positions.cast(pl.Int64) * self.mult + self.offset) % max(self.total, 1)

    def rows(self, logical: pl.Series, rng: pl.Series) -> pl.DataFrame:
        """Segment attributes for each logical index, plus `local` (index in its segment)
        and `rng` (the index its random draws are taken at)."""
        seg = self.segments["start"].search_sorted(logical, side="right").cast(pl.Int64) - 1
        attrs = self.segments.select(pl.all().gather(seg))
        return attrs.with_columns(
            local=logical.cast(pl.Int64) - pl.col("start"),
            logical=logical.cast(pl.Int64),
            rng=rng.cast(pl.Int64),
        )
