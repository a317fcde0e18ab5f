"""Cast delivered columns to the canonical types, row by row failures reported, not raised.

Sources deliver text (CSV, JSON) or typed columns (Parquet). A value that cannot be read
as its type is a row-level problem (the row goes to quarantine); a column in which no
value can be read is a table-level problem (the batch is refused).
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
from polars._typing import PolarsDataType

from contracts.errors import ContractError

# Timestamp layouts seen in government feeds, tried in order; offsets are dropped to the
# wall-clock time the source recorded. Day-month-year or month-day-year text is read in
# the order its source declares (`date_order`): undeclared, a value that reads as two
# different dates (05/03/2024) is not guessed but quarantined (rule `ambiguous_date`).
_ISO_FORMATS = (
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
)
_SLASH_FORMATS = ("%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y")
DATE_ORDERS = ("mdy", "dmy")
_DAY_FIRST = tuple(f.replace("%m/%d", "%d/%m") for f in _SLASH_FORMATS)
_TIMESTAMP_FORMATS = _ISO_FORMATS + _SLASH_FORMATS
_LAYOUTS = {"mdy": _TIMESTAMP_FORMATS, "dmy": _ISO_FORMATS + _DAY_FIRST, None: _TIMESTAMP_FORMATS + _DAY_FIRST}
_SLASH_DATE = r"^\s*(\d{1,2})/(\d{1,2})/\d{4}"
_TRUE = ("true", "t", "yes", "y", "1")
_FALSE = ("false", "f", "no", "n", "0")


def _timestamps_from_text(text: pl.Series, date_order: str | None = None) -> pl.Series:
    """Parse ISO 8601 wall-clock text with Arrow's cast (about 8x faster than strptime);
    a column with any other value takes the layouts in order, where only the values the
    first layout could not read try the others."""
    try:
        iso = pc.cast(text.to_arrow(), pa.timestamp("us"))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return _timestamps_from_layouts(text, date_order)
    return pl.Series(text.name, iso)


def ambiguous_dates(text: pl.Series) -> pl.Series:
    """Whether each value is a day/month/year text that reads as two different dates
    (both leading numbers 12 or less, and not equal)."""
    parts = text.str.extract_groups(_SLASH_DATE)
    first = parts.struct.field("1").cast(pl.Int32, strict=False)
    second = parts.struct.field("2").cast(pl.Int32, strict=False)
    return ((first <= 12) & (second <= 12) & (first != second)).fill_null(False)


def _timestamps_from_layouts(text: pl.Series, date_order: str | None = None) -> pl.Series:
    layouts = _LAYOUTS[date_order]
    out = text.str.strptime(pl.Datetime("us"), layouts[0], strict=False)
    missing = (out.is_null() & text.is_not_null()).arg_true()
    if missing.len() == 0:
        return out
    rest = text.gather(missing).str.strip_chars().str.replace(r"(Z|[+-]\d{2}:?\d{2})$", "")
    parsed = pl.Series(text.name, [None] * rest.len(), dtype=pl.Datetime("us"))
    for fmt in layouts:
        parsed = parsed.fill_null(rest.str.strptime(pl.Datetime("us"), fmt, strict=False))
        if parsed.null_count() == 0:
            break
    return out.scatter(missing, parsed)


def _readable_years(stamps: pl.Expr) -> pl.Expr:
    """A timestamp of a year before 1000 or after 9999 (`-2024-05-01` read as 2024 BC) is
    a value that could not be read, not a date."""
    return pl.when(stamps.dt.year().is_between(1000, 9999)).then(stamps).otherwise(None)


def _cast_expr(col: str, source: PolarsDataType, target: PolarsDataType, date_order: str | None = None) -> pl.Expr:
    if isinstance(target, pl.Datetime) and source != target:
        return _readable_years(_cast_to(col, source, target, date_order))
    return _cast_to(col, source, target)


def _cast_to(col: str, source: PolarsDataType, target: PolarsDataType, date_order: str | None = None) -> pl.Expr:
    c = pl.col(col)
    if source == target:
        return c
    if isinstance(target, pl.Datetime):
        if source == pl.String:
            return c.map_batches(lambda t: _timestamps_from_text(t, date_order), return_dtype=pl.Datetime("us"))
        if isinstance(source, pl.Datetime):
            if source.time_zone is not None:
                c = c.dt.replace_time_zone(None)
            return c.cast(pl.Datetime("us"))
        if source == pl.Date:
            return c.cast(pl.Datetime("us"))
        return c.cast(pl.Datetime("us"), strict=False)
    if target == pl.Boolean and source == pl.String:
        low = c.str.strip_chars().str.to_lowercase()
        return pl.when(low.is_in(_TRUE)).then(True).when(low.is_in(_FALSE)).then(False).otherwise(None)
    if source == pl.String:
        c = c.str.strip_chars()
        if target in (pl.Int32, pl.Int64):
            # "3.0" from a spreadsheet export is still the integer 3
            as_float = c.cast(pl.Float64, strict=False)
            # (non-strict: a whole number beyond the column's range is an unreadable value)
            return pl.when(as_float == as_float.round(0)).then(as_float).otherwise(None).cast(target, strict=False)
    return c.cast(target, strict=False)


def _has_blank(text: pl.Series) -> bool:
    """Whether any value is empty or whitespace only (Arrow's kernel, no copies: most
    columns have none, and rewriting them would cost a pass that allocates every string)."""
    arr = text.to_arrow()
    return bool(pc.any(pc.or_(pc.equal(pc.binary_length(arr), 0), pc.utf8_is_space(arr))).as_py())


def _failures(df: pl.DataFrame, col: str, bad: pl.Series, rule: str) -> pl.DataFrame:
    return (
        df.with_row_index("index")
        .filter(bad)
        .select(
            pl.col("index").cast(pl.Int64),
            pl.lit(rule).alias("rule"),
            pl.lit(col).alias("column"),
            pl.col(col).cast(pl.String).alias("value"),
        )
    )


def coerce(
    df: pl.DataFrame, columns: Mapping[str, PolarsDataType], date_order: str | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Return (typed frame, failures) where failures has index, rule, column, value.

    rule `type`: the value could not be read as the column's type; `not_finite`: a
    number column's value is infinite or NaN (`inf`, `1e400`), never a figure. Both are
    null in the typed frame; `ambiguous_date`: a day/month text that `date_order` (the
    source's declaration, `DATE_ORDERS`) does not settle. Columns outside `columns` are
    left as delivered. A column
    of the wrong type whose values can none of them be read raises ContractError.
    """
    exprs: list[pl.Expr] = []
    failure_frames: list[pl.DataFrame] = []
    for col, target in columns.items():
        if col not in df.columns:
            continue
        source = df.schema[col]
        if source == pl.Null:
            exprs.append(pl.col(col).cast(target))
            continue
        if source == target and not target.is_float():
            continue
        cast = df.select(_cast_expr(col, source, target, date_order).alias(col)).to_series()
        reported = pl.repeat(False, df.height, eager=True)  # failures of other rules than `type`
        if (
            isinstance(target, pl.Datetime)
            and source == pl.String
            and date_order is None
            and df[col].str.contains("/", literal=True).any()  # (the cheap test first)
        ):
            unsettled = ambiguous_dates(df[col])
            if unsettled.any():
                failure_frames.append(_failures(df, col, unsettled, "ambiguous_date"))
                cast = cast.set(unsettled, None)
                reported = unsettled
        if target.is_float():
            infinite = cast.is_not_null() & ~cast.is_finite()
            if infinite.any():
                failure_frames.append(_failures(df, col, infinite, "not_finite"))
                cast = cast.set(infinite, None)
                reported = infinite
            if source == target:
                if infinite.any():
                    exprs.append(pl.lit(cast).alias(col))
                continue
        exprs.append(pl.lit(cast).alias(col))
        given = df[col].is_not_null()
        if source == pl.String:
            given = given & (df[col].str.strip_chars() != "")
        probe = pl.DataFrame({"given": given, "lost": cast.is_null()})
        bad = probe["given"] & probe["lost"] & ~reported
        n_bad = int(bad.sum())
        if n_bad:
            n_given = int(probe["given"].sum())
            sample = df.filter(bad)[col].head(1).cast(pl.String).to_list()[0]
            if n_bad == n_given and n_given > 1:
                raise ContractError(
                    f"column {col!r} is {source} and none of its {n_given} values can be read "
                    f"as {target} (e.g. {sample!r})"
                )
            failure_frames.append(_failures(df, col, bad, "type"))
    typed = df.with_columns(exprs) if exprs else df
    # Text columns empty in CSV mean "not given".
    text_cols = [c for c, t in columns.items() if t == pl.String and c in typed.columns and _has_blank(typed[c])]
    if text_cols:
        typed = typed.with_columns(
            [pl.when(pl.col(c).str.strip_chars() == "").then(None).otherwise(pl.col(c)).alias(c) for c in text_cols]
        )
    failures = (
        pl.concat(failure_frames)
        if failure_frames
        else pl.DataFrame(schema={"index": pl.Int64, "rule": pl.String, "column": pl.String, "value": pl.String})
    )
    return typed, failures
