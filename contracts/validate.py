"""Split a delivered batch into valid rows and rejected rows with reasons.

Lazy validation: every failing row is found at once, the pandera schema's data checks
collected in one polars pass (`contracts.one_pass`; `pandera_failures(one_pass=False)` is
pandera's own `validate`, a pass per check, which it equals). Row-level failures send the row
to quarantine (with the row as delivered, as JSON); a table-level failure (missing
column, a column that cannot be read as its type, a check that cannot run) raises
ContractError and the whole load is refused.
"""

from __future__ import annotations

import pandera.polars as pa
import polars as pl
from pandera.config import ValidationDepth, config_context
from pandera.errors import SchemaError, SchemaErrors

from contracts.coerce import UNDECLARED, Reading, coerce
from contracts.entities import FEED_REJECTED, STATED_FISCAL_YEAR, Entity
from contracts.errors import ContractError
from contracts.fiscal_year import FiscalCalendar
from contracts.models import PLAUSIBLE
from contracts.one_pass import failure_cases as one_pass_failure_cases
from contracts.rules import LoadContext, schema_for

REJECT_SCHEMA = {
    "fiscal_year": pl.Int32,
    "rule": pl.String,
    "column": pl.String,
    "message": pl.String,
    "row": pl.String,
}

# When a row breaks several rules, the one reported first.
# A value that could not be read is reported as such, not as the missing value it became.
_RULE_ORDER = (
    "source_rejected",
    "type",
    "not_finite",
    "ambiguous_date",
    "mixed_offsets",
    "undeclared_epoch",
    "not_nullable",
    "plausible_bound",
    "unique_id",
    "unique_across_years",
    "in_fiscal_year",
    "known_service",
    "no_services_catalogue",
)


def _rule_name(check: str) -> str:
    return check.split("(", 1)[0]


_ROW_RULES = {
    "called_after_issued": "called_at is before issued_at (negative wait)",
    "completed_after_called": "completed_at is before called_at (negative service time)",
    "ended_after_started": "ended_at is before started_at",
    "closed_after_requested": "closed_at is before requested_at",
    "fee_revenue_line": "a fee_revenue line needs a service_id, a channel and an amount >= 0",
}


_READ_AS: dict[object, str] = {
    pl.Float64: "a number",
    pl.Int32: "a whole number in range",
    pl.Int64: "a whole number in range",
    pl.Boolean: "true or false",
    pl.Datetime: "a date and time",
}


def _message(
    rule: str, column: str, value: str | None, ctx: LoadContext, kind: object = None, bound: float = 0.0
) -> str:
    if rule in _ROW_RULES:
        return _ROW_RULES[rule]
    if rule == "source_rejected":
        return str(value)
    if rule == "not_nullable":
        return f"{column} is missing"
    if rule == "type":
        return f"{column} value {value!r} could not be read as {_READ_AS.get(kind, str(kind))}"
    if rule == "ambiguous_date":
        return (
            f"{column} value {value!r} could be read as two dates (day/month order): the source does not "
            "declare its date_order (mdy or dmy), and a date is never guessed"
        )
    if rule == "mixed_offsets":
        return (
            f"{column} value {value!r} carries another UTC offset than other times of the file: the source "
            "does not declare its time_zone (an IANA name), and a local time is never guessed"
        )
    if rule == "undeclared_epoch":
        return (
            f"{column} value {value!r} is a number, not a date: an epoch time is read only in the epoch_unit "
            "(s, ms, us, ns) and time_zone its source declares, never guessed"
        )
    if rule == "not_finite":
        return f"{column} value {value!r} is not a finite number"
    if rule == PLAUSIBLE:
        return f"{column} value {value} is beyond the plausible bound the contract declares ({bound:g})"
    if rule == "unique_id":
        return f"{column} {value!r} repeats an earlier row of this load"
    if rule == "unique_across_years":
        return f"{column} {value!r} is already loaded for another fiscal year (ids are unique across years)"
    if rule == "known_service":
        return f"service_id {value!r} is not in the FY{ctx.catalogue_year or ctx.fiscal_year} service catalogue"
    if rule == "no_services_catalogue":
        return f"service_id {value!r} names a service, but there is no services catalogue for FY{ctx.fiscal_year} or earlier"
    if rule == "in_fiscal_year":
        return f"{column} {value} is outside FY{ctx.fiscal_year}"
    if rule.startswith("isin"):
        return f"{column} value {value!r} is not an allowed value"
    return f"{column} value {value!r} fails {rule}"


def _kind(dtype: object) -> object:
    """The type a column is read as, without its unit (a Datetime("us") is a Datetime)."""
    return pl.Datetime if isinstance(dtype, pl.Datetime) or dtype is pl.Datetime else dtype


def _event_year(ent: Entity, columns: list[str], calendar: FiscalCalendar) -> pl.Expr:
    """The fiscal year of a dated row: the publisher's stated label, else its event time's."""
    assert ent.time_column is not None
    year = calendar.year_expr(ent.time_column)
    if STATED_FISCAL_YEAR in columns:  # the publisher's own label wins
        year = pl.coalesce(pl.col(STATED_FISCAL_YEAR).cast(pl.Int32, strict=False), year)
    return year


def fiscal_years_of(
    ent: Entity, batch: pl.DataFrame, calendar: FiscalCalendar, reading: Reading = UNDECLARED
) -> set[int]:
    """The fiscal years a batch of a dated entity's rows falls in (rows whose year cannot
    be read count for none): where a feed's undated reference data is filed."""
    typed, _failures = coerce(batch, ent.columns, reading.date_order, reading.time_zone, reading.epoch_unit)
    if ent.time_column is not None and ent.time_column in typed.columns:
        years = typed.select(_event_year(ent, typed.columns, calendar).alias("fiscal_year"))
    elif "fiscal_year" in typed.columns:
        years = typed.select(pl.col("fiscal_year").cast(pl.Int32, strict=False))
    else:
        return set()
    return {int(y) for y in years["fiscal_year"].drop_nulls().unique()}


def _row_cases(name: str, schema: pa.DataFrameSchema, frame: pl.DataFrame) -> pl.DataFrame | None:
    """pandera's failure cases of `frame`, one per failing row and check (None: it passes);
    ContractError when the table itself fails (a column's type, a check that cannot run)."""
    try:
        schema.validate(frame, lazy=True)
    except (SchemaErrors, SchemaError) as err:
        cases = err.failure_cases if isinstance(err, SchemaErrors) else None
        if cases is None:
            raise ContractError(f"{name}: {err}") from err
        table_level = cases.filter(pl.col("index").is_null())
        if table_level.height:
            first = table_level.row(0, named=True)
            raise ContractError(
                f"{name}: table-level contract failure on {first['column']}: {first['check']} ({first['failure_case']})"
            ) from err
        return cases
    return None


def _schema_level_passes(schema: pa.DataFrameSchema, frame: pl.DataFrame) -> bool:
    """pandera's checks of the table alone (columns present, their types) pass."""
    try:
        with config_context(validation_depth=ValidationDepth.SCHEMA_ONLY):
            schema.validate(frame, lazy=True)
    except (SchemaErrors, SchemaError):
        return False
    return True


def pandera_failures(
    name: str, schema: pa.DataFrameSchema, frame: pl.DataFrame, one_pass: bool = True
) -> pl.DataFrame | None:
    """pandera's row-level failure cases of a batch (`index` = row; None: every row
    passes); ContractError on a table-level failure.

    one_pass: pandera checks the table (columns, types) and the schema's data checks are
    collected in one pass (`contracts.one_pass`); False, or where that pass cannot
    answer as `validate` would: `schema.validate(lazy=True)`, a pass per check.
    """
    if one_pass and _schema_level_passes(schema, frame):
        cases = one_pass_failure_cases(schema, frame)
        if cases is not None:
            return cases if cases.height else None
    return _row_cases(name, schema, frame)


class BatchValidator:
    """Validates the batches of one load of one entity, keeping cross-batch state."""

    def __init__(self, entity: Entity, ctx: LoadContext, one_pass: bool = True):
        self.entity = entity
        self.ctx = ctx
        # False: pandera validates every whole batch (the reference `pandera_failures` is checked against)
        self.one_pass = one_pass

    def validate(self, batch: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        ent, ctx = self.entity, self.ctx
        missing = [c for c in ent.required if c not in batch.columns]
        if missing:
            raise ContractError(f"{ent.name}: required column(s) missing: {', '.join(missing)}")
        typed, type_failures = coerce(batch, ent.columns, ctx.date_order, ctx.time_zone, ctx.epoch_unit)
        # Every canonical column is in the staged data (null where the source has none),
        # so a raw table always carries the columns the models read.
        absent = [c for c in ent.columns if c not in typed.columns]
        if absent:
            typed = typed.with_columns([pl.lit(None, dtype=ent.columns[c]).alias(c) for c in absent])
        if ent.time_column is not None:
            year = _event_year(ent, typed.columns, ctx.calendar)
            typed = typed.with_columns(year.alias("fiscal_year")).drop(STATED_FISCAL_YEAR, strict=False)
        elif "fiscal_year" not in typed.columns:
            if ctx.fiscal_year is None:
                raise ContractError(f"{ent.name}: rows carry no date and no fiscal_year, and no fiscal year was given")
            # Reference data without dates (the service catalogue) is the load year's snapshot.
            typed = typed.with_columns(pl.lit(ctx.fiscal_year, dtype=pl.Int32).alias("fiscal_year"))
        schema = schema_for(ent, ctx)
        failures = [type_failures.select("index", "rule", "column", pl.col("value").alias("failure_case"))]
        if FEED_REJECTED in typed.columns:
            failures.append(
                typed.with_row_index("index")
                .filter(pl.col(FEED_REJECTED).is_not_null())
                .select(
                    pl.col("index").cast(pl.Int64),
                    pl.lit("source_rejected").alias("rule"),
                    pl.lit(None, dtype=pl.String).alias("column"),
                    pl.col(FEED_REJECTED).cast(pl.String).alias("failure_case"),
                )
            )
        cases = pandera_failures(ent.name, schema, typed, one_pass=self.one_pass)
        if cases is not None:
            failures.append(
                cases.select(
                    pl.col("index").cast(pl.Int64),
                    pl.col("check").map_elements(_rule_name, return_dtype=pl.String).alias("rule"),
                    pl.when(pl.col("schema_context") == "DataFrameSchema")
                    .then(pl.lit(None, dtype=pl.String))
                    .otherwise(pl.col("column"))
                    .alias("column"),
                    pl.col("failure_case").cast(pl.String),
                )
            )
        fails = pl.concat(failures)
        # Rows that failed only because an earlier bad row had the same id are still
        # rejected; the order gives each rejected row its most telling reason.
        order = {r: i for i, r in enumerate(_RULE_ORDER)}
        fails = (
            fails.with_columns(
                pl.col("rule").replace_strict(order, default=len(order), return_dtype=pl.Int32).alias("_o")
            )
            .sort("index", "_o", maintain_order=True)
            .unique(subset="index", keep="first", maintain_order=True)
        )
        bad_index = fails["index"]
        keep = ~pl.int_range(typed.height, dtype=pl.Int64, eager=True).is_in(bad_index.implode())
        valid = typed.filter(keep).drop(FEED_REJECTED, strict=False)
        self.ctx.seen_ids.add(valid[ent.id_column])
        rejects = self._rejects(batch, typed, fails)
        return valid, rejects

    def _rejects(self, batch: pl.DataFrame, typed: pl.DataFrame, fails: pl.DataFrame) -> pl.DataFrame:
        if fails.height == 0:
            return pl.DataFrame(schema=REJECT_SCHEMA)
        rows = (
            batch.with_row_index("index")
            .with_columns(pl.col("index").cast(pl.Int64))
            .join(fails.select("index"), on="index", how="semi")
            .select("index", pl.struct(pl.exclude("index")).struct.json_encode().alias("row"))
        )
        years = typed.select(
            pl.int_range(typed.height, dtype=pl.Int64).alias("index"), pl.col("fiscal_year").cast(pl.Int32)
        )
        joined = fails.join(rows, on="index", how="left").join(years, on="index", how="left").sort("index")
        cols, bounds = self.entity.columns, self.entity.plausible_bounds
        messages = [
            _message(rule, column or "row", value, self.ctx, _kind(cols.get(column)), bounds.get(column, 0.0))
            for rule, column, value in zip(joined["rule"], joined["column"], joined["failure_case"])
        ]
        if self.ctx.fiscal_year is not None:  # a one-year load: its rejects belong to that year
            joined = joined.with_columns(pl.lit(self.ctx.fiscal_year, dtype=pl.Int32).alias("fiscal_year"))
        return joined.select(
            "fiscal_year",
            "rule",
            "column",
            pl.Series("message", messages, dtype=pl.String),
            "row",
        )
