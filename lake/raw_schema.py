"""The Arrow schema a raw table has before any source delivered it: the canonical
columns of its entity plus the ingestion columns, so models over it build empty."""

from __future__ import annotations

import polars as pl
import pyarrow as pa
from polars._typing import PolarsDataType

from contracts.entities import ENTITIES

RAW_NAMESPACE = "raw"
INGESTION_COLUMNS: dict[str, pl.DataType] = {
    "fiscal_year": pl.Int32(),
    "_load_id": pl.String(),
    "_source": pl.String(),
    "_source_file": pl.String(),
}


def empty_raw_table(table_name: str) -> pa.Table | None:
    """An empty table for `raw.<entity>`, or None when the name is no canonical entity."""
    namespace, _, entity = table_name.partition(".")
    if namespace != RAW_NAMESPACE or entity not in ENTITIES:
        return None
    columns: dict[str, PolarsDataType] = {**ENTITIES[entity].columns, **INGESTION_COLUMNS}
    return pl.DataFrame(schema=columns).to_arrow()
