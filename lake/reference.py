"""Reference data the contracts need from the lake: the service catalogue of a year.

The rule (docs/raw_tables.md, "services"): a services catalogue applies to its own fiscal
year and to the later years until a newer one arrives, so the known services of FY Y are
those of the newest catalogue at or before Y. A year with no catalogue of its own nor any
earlier one knows no service: its rows that name a service are quarantined (rule
`no_services_catalogue`), never failing the load, and a year without rows loads nothing.
Either way the raw asset says which catalogue a year stood on (`ServicesCatalogue.note`).
"""

from __future__ import annotations

from dataclasses import dataclass

from pyiceberg.catalog import Catalog
from pyiceberg.exceptions import NoSuchTableError
from pyiceberg.expressions import LessThanOrEqual, Reference
from pyiceberg.expressions.literals import literal


@dataclass(frozen=True)
class ServicesCatalogue:
    """The services a fiscal year's rows may name, and the year of the catalogue they come from."""

    fiscal_year: int
    catalogue_year: int | None  # None: no catalogue at or before `fiscal_year`
    service_ids: frozenset[str]

    @property
    def note(self) -> str | None:
        """What a user should know: None when the year has a catalogue of its own."""
        if self.catalogue_year is None:
            return (
                f"no services catalogue for FY{self.fiscal_year} or earlier: "
                "rows naming a service are quarantined (no_services_catalogue)"
            )
        if self.catalogue_year != self.fiscal_year:
            return f"no services catalogue for FY{self.fiscal_year}: the FY{self.catalogue_year} catalogue applies"
        return None


def services_catalogue(catalog: Catalog, fiscal_year: int) -> ServicesCatalogue:
    """The newest services catalogue in raw.services at or before the year (see the module's rule)."""
    try:
        table = catalog.load_table("raw.services")
    except NoSuchTableError:
        return ServicesCatalogue(fiscal_year, None, frozenset())
    rows = table.scan(
        row_filter=LessThanOrEqual(term=Reference("fiscal_year"), value=literal(fiscal_year)),
        selected_fields=("service_id", "fiscal_year"),
    ).to_arrow()
    years = [y for y in set(rows["fiscal_year"].to_pylist()) if y is not None]
    if not years:
        return ServicesCatalogue(fiscal_year, None, frozenset())
    newest = max(years)
    ids = {s for s, y in zip(rows["service_id"].to_pylist(), rows["fiscal_year"].to_pylist()) if y == newest}
    return ServicesCatalogue(fiscal_year, newest, frozenset(s for s in ids if s is not None))


def known_service_ids(catalog: Catalog, fiscal_year: int) -> frozenset[str]:
    """Service ids the year's rows may name (empty: no catalogue at or before the year)."""
    return services_catalogue(catalog, fiscal_year).service_ids


def service_ids_by_source(catalog: Catalog) -> dict[str, set[str]]:
    """The service ids raw.services holds per feed (`_source`), over every year: what a new
    feed's catalogue must not collide with (ingestion.service_ids)."""
    try:
        table = catalog.load_table("raw.services")
    except NoSuchTableError:
        return {}
    rows = table.scan(selected_fields=("service_id", "_source")).to_arrow()
    ids: dict[str, set[str]] = {}
    for service, source in zip(rows["service_id"].to_pylist(), rows["_source"].to_pylist()):
        if service is not None:
            ids.setdefault(source, set()).add(service)
    return ids
