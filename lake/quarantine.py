"""`quarantine.rejected_rows`: every row a contract refused, with the reason, per load.

One table for all entities, partitioned by entity, fiscal year and source, replaced
together with the raw partition it belongs to, so the two always describe the same load.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
from pyiceberg.catalog import Catalog
from pyiceberg.exceptions import NoSuchTableError
from pyiceberg.expressions import AlwaysTrue, And, BooleanExpression

from contracts.staged import QUARANTINE_ARROW
from lake.commit import equal_to, partition_filter, replace_partition
from lake.maintenance import bound_history, expire_snapshots
from lake.tables import ensure_table

QUARANTINE_TABLE = "quarantine.rejected_rows"


def replace_quarantine(
    catalog: Catalog,
    entity: str,
    fiscal_year: int | None,
    source: str,
    quarantine_file: Path | None,
    load_id: str,
    properties: dict[str, str],
    placed: list[tuple[Path, str]] | None = None,
) -> int | None:
    table = ensure_table(catalog, QUARANTINE_TABLE, QUARANTINE_ARROW, partition_by=("entity", "fiscal_year", "source"))
    # replaced at every load: expired snapshots keep commits cheap
    snapshot = replace_partition(
        bound_history(table),
        [quarantine_file] if quarantine_file else [],
        partition_filter(fiscal_year, entity=entity, source=source),
        partition_path=f"entity={entity}/fiscal_year={fiscal_year}/source={source}",
        file_prefix=load_id,
        properties=properties,
        placed=placed,
    )
    expire_snapshots(table)
    return snapshot


def read_quarantine(
    catalog: Catalog, entity: str | None = None, fiscal_year: int | None = None, rule: str | None = None
) -> pa.Table:
    """The rejected rows (optionally of one entity, fiscal year and rule), read-only: no
    table yet (nothing ever quarantined) is an empty result, never a created table."""
    try:
        table = catalog.load_table(QUARANTINE_TABLE)
    except NoSuchTableError:
        return QUARANTINE_ARROW.empty_table()
    expr: BooleanExpression = AlwaysTrue()
    for column, value in (("entity", entity), ("fiscal_year", fiscal_year), ("rule", rule)):
        if value is not None:
            expr = And(expr, equal_to(column, value))
    rows = table.scan(row_filter=expr).to_arrow()
    return rows.sort_by([("entity", "ascending"), ("fiscal_year", "ascending"), ("source", "ascending")])


def quarantine_rules(catalog: Catalog) -> set[str]:
    """The rules that quarantined at least one row: what `--rule` can name."""
    try:
        table = catalog.load_table(QUARANTINE_TABLE)
    except NoSuchTableError:
        return set()
    return {r for r in table.scan(selected_fields=("rule",)).to_arrow()["rule"].to_pylist() if r}
