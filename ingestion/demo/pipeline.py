"""Write one entity-year: good rows chunk by chunk in file order, bad rows slotted in.

Why this shape: every chunk is generated from its file positions alone (layout.py), so a
year of any size streams through bounded memory, and the output does not depend on the
chunk size. Good row ids come from the logical index (1..N); bad rows take N+1.. (or the id
of the row they duplicate, which always sits earlier in the file).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from ingestion.demo.bad_rows import plan_bad_rows, spoil_common
from ingestion.demo.entity import EntitySpec
from ingestion.demo.layout import Layout
from ingestion.demo.parameters import DemoPlan
from ingestion.demo.random_streams import stream_key
from ingestion.demo.writers import ChunkWriter

CHUNK_ROWS = 990_000  # good rows per chunk: parts stay <= 1M rows with their bad rows
ID_DIGITS = 8


def _format_id(spec: EntitySpec, year: int, number: pl.Series) -> pl.Series:
    prefix = f"{spec.id_prefix}-{year}-"
    return pl.concat_str([pl.lit(prefix), number.cast(pl.String).str.zfill(ID_DIGITS)])


def _finish(spec: EntitySpec, year: int, rows: pl.DataFrame, plan: DemoPlan) -> pl.DataFrame:
    """Build the output columns for rows that carry id_number, kind, bad, sort_key."""
    return spec.build(rows, year, plan).with_columns(
        _format_id(spec, year, rows["id_number"]).alias(spec.id_column),
        kind=rows["kind"],
        bad=rows["bad"],
        sort_key=rows["sort_key"],
    )


def write_entity_year(spec: EntitySpec, plan: DemoPlan, year: int, landing: Path, chunk_rows: int = CHUNK_ROWS) -> dict:
    """Write the files; return rows written and the planted bad rows (kind, id, row = 0-based
    position in the entity-year's file order, parts concatenated)."""
    layout = Layout.of(spec.segments(plan, year), stream_key(plan.seed, spec.name, year, "layout"))
    n_good = layout.total
    bad = plan_bad_rows(layout, spec.kinds, stream_key(plan.seed, spec.name, year, "bad"))
    folder = landing / spec.name / f"fy={year}"
    bad_ids: list[pl.DataFrame] = []
    rows_written = 0
    with ChunkWriter(folder, spec.fmt, spec.file_name, spec.columns) as writer:
        starts = list(range(0, n_good, chunk_rows)) or [0]
        for start in starts:
            end = min(n_good, start + chunk_rows)
            last = end == n_good
            pos = pl.int_range(start, end, dtype=pl.Int64, eager=True)
            logical = pl.select(layout.logical(pl.lit(pos))).to_series() if n_good else pos
            good = layout.rows(logical, logical).with_columns(
                id_number=pl.col("logical") + 1,
                kind=pl.lit(None, dtype=pl.String),
                bad=pl.lit(None, dtype=pl.Int64),
                sort_key=pos * 2,
            )
            parts = [_finish(spec, year, good, plan)] if n_good else []
            here = bad.filter((pl.col("insert_at") >= start) & ((pl.col("insert_at") < end) | pl.lit(last)))
            if here.height:
                rows = layout.rows(here["base_logical"], here["rng"]).with_columns(
                    id_number=here["id_number"],
                    kind=here["kind"],
                    bad=here["bad"],
                    sort_key=here["insert_at"] * 2 - 1,
                )
                spoiled = spoil_common(_finish(spec, year, rows, plan), year, spec.id_column, spec.time_columns)
                if spec.spoil is not None:
                    spoiled = spec.spoil(spoiled)
                parts.append(spoiled)
            if not parts:
                continue
            chunk = pl.concat(parts, how="vertical").sort("sort_key", maintain_order=True)
            chunk = chunk.with_row_index("row", offset=rows_written)
            rows_written += chunk.height
            bad_ids.append(
                chunk.filter(pl.col("kind").is_not_null()).select(
                    "bad", "kind", pl.col(spec.id_column).alias("id"), pl.col("row").cast(pl.Int64)
                )
            )
            writer.write(chunk)
    bad_rows = (
        pl.concat(bad_ids).sort("bad")
        if bad_ids
        else pl.DataFrame(schema={"bad": pl.Int64, "kind": pl.String, "id": pl.String, "row": pl.Int64})
    )
    return {"files": writer.files, "good": n_good, "bad": bad.height, "bad_rows": bad_rows}
