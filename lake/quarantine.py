"""`quarantine.rejected_rows`: every row a contract refused, with the reason, per load.

One table for all entities, partitioned by entity, fiscal year and source, replaced
together with the raw partition it belongs to, so the two always describe the same load.
"""

from __future__ import annotations

from pathlib import Path

from pyiceberg.catalog import Catalog

from contracts.staged import QUARANTINE_ARROW
from lake.commit import partition_filter, replace_partition
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
