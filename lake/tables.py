"""Iceberg tables of the lake: created on first load, partitioned by fiscal year, grown by name."""

from __future__ import annotations

import time

import pyarrow as pa
from pyiceberg.catalog import Catalog
from pyiceberg.exceptions import CommitFailedException, NoSuchTableError
from pyiceberg.table import Table


def iceberg_compatible(schema: pa.Schema) -> pa.Schema:
    """Arrow types Iceberg maps one to one (large/view strings become strings)."""
    fields = []
    for f in schema:
        t = f.type
        if pa.types.is_large_string(t) or pa.types.is_string_view(t):
            t = pa.string()
        elif pa.types.is_null(t):
            t = pa.string()
        elif pa.types.is_timestamp(t) and t.unit != "us":
            t = pa.timestamp("us", tz=t.tz)
        fields.append(pa.field(f.name, t, nullable=True))
    return pa.schema(fields)


def ensure_table(
    catalog: Catalog, identifier: str, schema: pa.Schema, partition_by: tuple[str, ...] = ("fiscal_year",)
) -> Table:
    """Load the table, creating it (identity-partitioned) or adding new columns by name.

    Two processes may race to create or widen the same table (concurrent refreshes on
    PostgreSQL): the loser's commit fails, it reloads the winner's table and tries again.
    """
    for attempt in range(5):
        try:
            return _ensure_table_once(catalog, identifier, iceberg_compatible(schema), partition_by)
        except CommitFailedException:
            if attempt == 4:
                raise
            time.sleep(0.2 * (attempt + 1))
    raise AssertionError("unreachable")


def _ensure_table_once(catalog: Catalog, identifier: str, schema: pa.Schema, partition_by: tuple[str, ...]) -> Table:
    try:
        table = catalog.load_table(identifier)
    except NoSuchTableError:
        table = catalog.create_table_if_not_exists(identifier, schema=schema)
        if partition_by and not table.spec().fields:
            with table.update_spec() as spec:
                for col in partition_by:
                    spec.add_identity(col)
        return catalog.load_table(identifier)
    if partition_by and not table.spec().fields:  # another process created it a moment ago
        with table.update_spec() as spec:
            for col in partition_by:
                spec.add_identity(col)
        table = catalog.load_table(identifier)
    known = set(table.schema().column_names)
    if any(name not in known for name in schema.names):
        with table.update_schema() as update:
            update.union_by_name(schema)
        table = catalog.load_table(identifier)
    return table
