"""The load-dependent rules added to an entity's pandera model.

- `known_service`: the row names a service of the year's catalogue (the newest at or
  before the year, `lake.reference`); `no_services_catalogue` when there is none: a row
  that names a service is then quarantined, one without a service is not;
- `in_fiscal_year`: the event happened inside the fiscal year being loaded;
- `unique_id`: the id has not been seen earlier in this load (the first copy is kept);
- `unique_across_years`: the id is not one the lake holds for another fiscal year of
  the entity (a refresh loads its years in order: the later copy is quarantined);
- `plausible_bound`: a number column's value lies within the bound its model declares
  (`contracts.models.plausible`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandera.polars as pa
import polars as pl

from contracts.entities import Entity
from contracts.fiscal_year import FiscalCalendar
from contracts.models import PLAUSIBLE
from contracts.seen_ids import SeenIds


@dataclass
class LoadContext:
    """What a contract needs to know about the load it guards."""

    # The fiscal year being loaded; None for a source that spans several years (each row
    # then takes the fiscal year of its event and the load is split by year).
    fiscal_year: int | None
    calendar: FiscalCalendar = FiscalCalendar()
    known_services: frozenset[str] | None = None
    # the fiscal year of the catalogue `known_services` come from (None: the loaded year's)
    catalogue_year: int | None = None
    # ids accepted by earlier batches of the same load (for unique_id across batches)
    seen_ids: SeenIds = field(default_factory=SeenIds)
    # ids the lake holds for the entity's other fiscal years (unique_across_years); None:
    # not checked (a load spanning years checks its own years with `seen_ids`)
    other_years_ids: SeenIds | None = None
    # the order of day/month/year text dates, as the source declares it (`mdy`, `dmy`;
    # None: undeclared, a date that reads two ways is quarantined, `contracts.coerce`)
    date_order: str | None = None
    # the IANA zone of the source's local times and the unit of its epoch numbers
    # (None: undeclared; see contracts.coerce)
    time_zone: str | None = None
    epoch_unit: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.calendar, FiscalCalendar):  # the former bare start month
            raise TypeError(f"LoadContext takes a FiscalCalendar (Settings.calendar), got {self.calendar!r}")


def schema_for(entity: Entity, ctx: LoadContext) -> pa.DataFrameSchema:
    schema = entity.model.to_schema()
    id_col = entity.id_column
    seen = ctx.seen_ids

    def unique_id(data) -> pl.LazyFrame:
        # a repeat of an earlier row of this batch or of an id an earlier batch accepted
        repeats = seen.repeats(data.lazyframe.select(data.key).collect().to_series())
        return data.lazyframe.select(pl.col(data.key).is_null() | ~pl.lit(pl.Series(repeats)))

    id_checks = [*schema.columns[id_col].checks, pa.Check(unique_id, name="unique_id")]
    other_years = ctx.other_years_ids
    if other_years is not None and len(other_years):

        def unique_across_years(data) -> pl.LazyFrame:
            # an id another fiscal year of the lake already holds: this later copy is not loaded
            again = other_years.seen(data.lazyframe.select(data.key).collect().to_series())
            return data.lazyframe.select(pl.col(data.key).is_null() | ~pl.lit(pl.Series(again)))

        id_checks.append(pa.Check(unique_across_years, name="unique_across_years"))
    updates: dict[str, dict] = {id_col: {"checks": id_checks}}

    for col, bound in entity.plausible_bounds.items():

        def plausible(data, bound: float = bound) -> pl.LazyFrame:
            c = pl.col(data.key)
            return data.lazyframe.select(c.is_null() | (c.abs() <= bound))

        checks = updates.get(col, {}).get("checks", schema.columns[col].checks)
        updates[col] = {"checks": [*checks, pa.Check(plausible, name=PLAUSIBLE)]}

    if entity.checks_service and ctx.known_services is not None:
        known = pl.Series("known", sorted(ctx.known_services), dtype=pl.String)

        def known_service(data) -> pl.LazyFrame:
            return data.lazyframe.select(pl.col(data.key).is_null() | pl.col(data.key).is_in(known.implode()))

        col = schema.columns["service_id"]
        rule = "known_service" if ctx.known_services else "no_services_catalogue"
        updates["service_id"] = {"checks": [*col.checks, pa.Check(known_service, name=rule)]}

    window_col = entity.time_column
    if ctx.fiscal_year is None:
        pass  # a multi-year source: no window to check, rows are split by their own year
    elif window_col is not None:
        start, end = ctx.calendar.window(ctx.fiscal_year)

        def in_fiscal_year(data) -> pl.LazyFrame:
            c = pl.col(data.key)
            return data.lazyframe.select(c.is_null() | ((c >= start) & (c < end)))

        col = schema.columns[window_col]
        updates[window_col] = {"checks": [*col.checks, pa.Check(in_fiscal_year, name="in_fiscal_year")]}
    else:
        fy = ctx.fiscal_year

        def is_load_year(data) -> pl.LazyFrame:
            return data.lazyframe.select(pl.col(data.key).is_null() | (pl.col(data.key) == fy))

        if "fiscal_year" in schema.columns:
            col = schema.columns["fiscal_year"]
            updates["fiscal_year"] = {"checks": [*col.checks, pa.Check(is_load_year, name="in_fiscal_year")]}

    return schema.update_columns(updates)
