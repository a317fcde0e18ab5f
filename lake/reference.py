"""Reference data the contracts need from the lake: the service catalogue of a year."""

from __future__ import annotations

from pyiceberg.catalog import Catalog
from pyiceberg.exceptions import NoSuchTableError

from lake.commit import partition_filter


def known_service_ids(catalog: Catalog, fiscal_year: int) -> frozenset[str]:
    """Service ids in raw.services for the year; an error if the catalogue is not loaded."""
    try:
        table = catalog.load_table("raw.services")
    except NoSuchTableError:
        raise LookupError("raw.services does not exist yet: load the service catalogue first") from None
    ids = table.scan(row_filter=partition_filter(fiscal_year), selected_fields=("service_id",)).to_arrow()
    if ids.num_rows == 0:
        raise LookupError(f"raw.services has no services for FY{fiscal_year}: load that year's catalogue first")
    return frozenset(ids["service_id"].to_pylist())
