"""The ids a raw table holds for the fiscal years other than the one being loaded.

A row id must be unique across the years the marts hold (dbt's `unique` test reads them
all): one year's load is checked against the others' ids (`contracts.rules`, rule
`unique_across_years`), streamed from Iceberg a batch at a time into a `SeenIds`.
"""

from __future__ import annotations

import polars as pl
from pyiceberg.catalog import Catalog
from pyiceberg.exceptions import NoSuchTableError
from pyiceberg.expressions import NotEqualTo, Reference
from pyiceberg.expressions.literals import literal

from contracts.seen_ids import SeenIds


def other_years_ids(catalog: Catalog, entity: str, id_column: str, fiscal_year: int) -> SeenIds:
    """The ids of `raw.<entity>` outside `fiscal_year` (none when the table is absent)."""
    seen = SeenIds()
    try:
        table = catalog.load_table(f"raw.{entity}")
    except NoSuchTableError:
        return seen
    scan = table.scan(
        row_filter=NotEqualTo(term=Reference("fiscal_year"), value=literal(fiscal_year)), selected_fields=(id_column,)
    )
    for batch in scan.to_arrow_batch_reader():
        ids = pl.from_arrow(batch.column(0))
        assert isinstance(ids, pl.Series)
        # (an id twice in the lake already: SeenIds takes each once per batch)
        seen.add(ids.unique())
    return seen
