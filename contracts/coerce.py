"""Cast delivered columns to the canonical types, row by row failures reported, not raised.

Sources deliver text (CSV, JSON) or typed columns (Parquet). A value that cannot be read
as its type is a row-level problem (the row goes to quarantine); a column in which no
value can be read is a table-level problem (the batch is refused).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
from polars._typing import PolarsDataType

from contracts.errors import ContractError

# Timestamp layouts seen in government feeds, tried in order. Day-month-year or
# month-day-year text is read in the order its source declares (`date_order`):
# undeclared, a value that reads as two different dates (05/03/2024) is not guessed but
# quarantined (rule `ambiguous_date`). The lake holds local wall-clock times: a text time
# with a UTC offset is converted, value by value, to the zone its source declares
# (`time_zone`, an IANA name); undeclared, it keeps the wall-clock time it was written
# with while every offset in the batch is the same, and values of differing offsets are
# quarantined (rule `mixed_offsets`), never guessed. A number is an epoch time only in
# the unit and zone its source declares (`epoch_unit`, `time_zone`), else quarantined
# (rule `undeclared_epoch`).
_ISO_FORMATS = (
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
)
_SLASH_FORMATS = ("%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y")
DATE_ORDERS = ("mdy", "dmy")
EPOCH_UNITS = ("s", "ms", "us", "ns")
_PER_MICROSECOND = {"s": 1_000_000.0, "ms": 1_000.0, "us": 1.0, "ns": 0.001}
_DAY_FIRST = tuple(f.replace("%m/%d", "%d/%m") for f in _SLASH_FORMATS)
_TIMESTAMP_FORMATS = _ISO_FORMATS + _SLASH_FORMATS
_LAYOUTS = {"mdy": _TIMESTAMP_FORMATS, "dmy": _ISO_FORMATS + _DAY_FIRST, None: _TIMESTAMP_FORMATS + _DAY_FIRST}
_OFFSET_FORMATS = ("%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S%.f%z", "%Y-%m-%dT%H:%M%z", "%Y-%m-%d %H:%M%z")
_OFFSET = r"(Z|[+-]\d{2}:?\d{2})$"
_SLASH_DATE = r"^\s*(\d{1,2})/(\d{1,2})/\d{4}"
_NUMBER = r"^-?\d+(\.\d+)?$"
_TRUE = ("true", "t", "yes", "y", "1")
_FALSE = ("false", "f", "no", "n", "0")


@dataclass(frozen=True)
class Reading:
    """How a source writes its times, as it declares them (None: undeclared)."""

    date_order: str | None = None  # DATE_ORDERS
    time_zone: str | None = None  # an IANA name: the zone of its local times
    epoch_unit: str | None = None  # EPOCH_UNITS: the unit of a time given as a number


UNDECLARED = Reading()  # a source that declares nothing of its times (the landing zone)


def time_zone_error(name: object) -> str | None:
    """Why `name` is not an IANA time zone this machine knows (None: it is one)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if not isinstance(name, str) or not name.strip():
        return f"`time_zone` must be an IANA name such as America/New_York, got {name!r}"
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return f"`time_zone` {name!r} is not an IANA time zone (e.g. America/New_York, Europe/Madrid, UTC)"
    return None


def utc_offsets(text: pl.Series) -> pl.Series:
    """The UTC offset each value states, spelled one way (`Z` and `+0000` are `+00:00`);
    null where it states none."""
    raw = text.str.strip_chars().str.extract(_OFFSET, 1)
    spelled = raw.str.replace(r"^([+-]\d{2})(\d{2})$", "$1:$2")
    return spelled.replace("Z", "+00:00")


def local_times(instants: pl.Series, time_zone: str) -> pl.Series:
    """UTC instants as wall-clock times in `time_zone` (its offset of each day, DST included)."""
    if getattr(instants.dtype, "time_zone", None) is None:
        instants = instants.dt.replace_time_zone("UTC")
    return instants.dt.convert_time_zone(time_zone).dt.replace_time_zone(None).cast(pl.Datetime("us"))


def epoch_times(numbers: pl.Series, unit: str, time_zone: str) -> pl.Series:
    """Numbers of `unit` since 1970-01-01 UTC as wall-clock times in `time_zone`."""
    if numbers.dtype.is_integer():
        instants = pl.from_epoch(numbers.cast(pl.Int64, strict=False), time_unit=unit)  # type: ignore[call-overload]
    else:
        micros = (numbers.cast(pl.Float64, strict=False) * _PER_MICROSECOND[unit]).round(0)
        instants = pl.from_epoch(micros.cast(pl.Int64, strict=False), time_unit="us")
    return local_times(instants.cast(pl.Datetime("us")), time_zone).alias(numbers.name)


def _timestamps_from_text(
    text: pl.Series, date_order: str | None = None, time_zone: str | None = None, epoch_unit: str | None = None
) -> tuple[pl.Series, pl.Series | None]:
    """(times, offsets): ISO 8601 wall-clock text is parsed with Arrow's cast (about 8x
    faster than strptime; the common path). A column with any other value takes the
    layouts in order, where only the values the first could not read try the others; a
    value with an offset is converted to `time_zone` when declared, else read at its
    own offset, which `offsets` (see utc_offsets; None: no value has one) reports."""
    try:
        iso = pc.cast(text.to_arrow(), pa.timestamp("us"))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    else:
        return pl.Series(text.name, iso), None
    times = _timestamps_from_layouts(text, date_order)
    offsets = utc_offsets(text)
    stated = offsets.is_not_null()
    if time_zone is not None and stated.any():
        where = stated.arg_true()
        times = times.scatter(where, local_times(_instants(text.gather(where)), time_zone))
    if epoch_unit is not None and time_zone is not None:
        numeric = (times.is_null() & text.str.strip_chars().str.contains(_NUMBER)).fill_null(False)
        if numeric.any():
            where = numeric.arg_true()
            numbers = text.gather(where).str.strip_chars().cast(pl.Float64, strict=False)
            times = times.scatter(where, epoch_times(numbers, epoch_unit, time_zone))
    return times, (offsets if stated.any() else None)


def _instants(text: pl.Series) -> pl.Series:
    """Text with offsets as UTC instants (Arrow's cast, else the offset layouts)."""
    try:
        return pl.Series(text.name, pc.cast(text.str.strip_chars().to_arrow(), pa.timestamp("us", "UTC")))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    out = pl.Series(text.name, [None] * text.len(), dtype=pl.Datetime("us", "UTC"))
    for fmt in _OFFSET_FORMATS:
        out = out.fill_null(text.str.strip_chars().str.to_datetime(fmt, time_unit="us", time_zone="UTC", strict=False))
    return out


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


def _cast_expr(
    col: str,
    source: PolarsDataType,
    target: PolarsDataType,
    time_zone: str | None = None,
    epoch_unit: str | None = None,
) -> pl.Expr:
    if isinstance(target, pl.Datetime) and source != target:
        return _readable_years(_cast_to(col, source, target, time_zone, epoch_unit))
    return _cast_to(col, source, target)


def _cast_to(
    col: str,
    source: PolarsDataType,
    target: PolarsDataType,
    time_zone: str | None = None,
    epoch_unit: str | None = None,
) -> pl.Expr:
    c = pl.col(col)
    if source == target:
        return c
    if isinstance(target, pl.Datetime):
        if isinstance(source, pl.Datetime):
            if source.time_zone is not None:  # the file states its zone: local times in ours, else in its
                if time_zone is not None:
                    c = c.dt.convert_time_zone(time_zone)
                c = c.dt.replace_time_zone(None)
            return c.cast(pl.Datetime("us"))
        if source == pl.Date:
            return c.cast(pl.Datetime("us"))
        if source.is_numeric():  # an epoch time: only in the declared unit and zone
            if epoch_unit is None or time_zone is None:
                return pl.when(c.is_null() & c.is_not_null()).then(
                    c.cast(pl.Int64, strict=False).cast(pl.Datetime("us"))
                )
            return c.map_batches(lambda n: epoch_times(n, epoch_unit, time_zone), return_dtype=pl.Datetime("us"))
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
    df: pl.DataFrame,
    columns: Mapping[str, PolarsDataType],
    date_order: str | None = None,
    time_zone: str | None = None,
    epoch_unit: str | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Return (typed frame, failures) where failures has index, rule, column, value.

    rule `type`: the value could not be read as the column's type; `not_finite`: a
    number column's value is infinite or NaN (`inf`, `1e400`), never a figure. Both are
    null in the typed frame; `ambiguous_date`: a day/month text that `date_order` (the
    source's declaration, `DATE_ORDERS`) does not settle; `mixed_offsets`: a text time
    whose UTC offset differs from another's of the batch when no `time_zone` is declared;
    `undeclared_epoch`: a number for a time without a declared `epoch_unit` and
    `time_zone` (`EPOCH_UNITS`). Columns outside `columns` are left as delivered. A column
    of the wrong type whose values can none of them be read raises ContractError.
    """
    exprs: list[pl.Expr] = []
    failure_frames: list[pl.DataFrame] = []
    # text times first: whether their offsets differ is a question of the whole batch
    text_times: dict[str, tuple[pl.Series, pl.Series | None]] = {
        col: _timestamps_from_text(df[col], date_order, time_zone, epoch_unit)
        for col, target in columns.items()
        if col in df.columns and isinstance(target, pl.Datetime) and df.schema[col] == pl.String
    }
    stated = [offsets for _times, offsets in text_times.values() if offsets is not None]
    mixed = time_zone is None and pl.concat(stated).drop_nulls().n_unique() > 1 if stated else False
    for col, target in columns.items():
        if col not in df.columns:
            continue
        source = df.schema[col]
        if source == pl.Null:
            exprs.append(pl.col(col).cast(target))
            continue
        if source == target and not target.is_float():
            continue
        reported = pl.repeat(False, df.height, eager=True)  # failures of other rules than `type`
        if col in text_times:
            times, offsets = text_times[col]
            cast = df.select(_readable_years(pl.lit(times)).alias(col)).to_series()
            if mixed and offsets is not None:
                differing = offsets.is_not_null()
                failure_frames.append(_failures(df, col, differing, "mixed_offsets"))
                cast = cast.set(differing, None)
                reported = differing
            numeric = cast.is_null() & df[col].str.strip_chars().str.contains(_NUMBER).fill_null(False)
            if (epoch_unit is None or time_zone is None) and numeric.any():
                failure_frames.append(_failures(df, col, numeric, "undeclared_epoch"))
                reported = reported | numeric
        else:
            cast = df.select(_cast_expr(col, source, target, time_zone, epoch_unit).alias(col)).to_series()
        if isinstance(target, pl.Datetime) and source.is_numeric() and (epoch_unit is None or time_zone is None):
            numbers = df[col].is_not_null()
            failure_frames.append(_failures(df, col, numbers, "undeclared_epoch"))
            reported = numbers
        if (
            col in text_times
            and date_order is None
            and df[col].str.contains("/", literal=True).any()  # (the cheap test first)
        ):
            unsettled = ambiguous_dates(df[col]) & ~reported
            if unsettled.any():
                failure_frames.append(_failures(df, col, unsettled, "ambiguous_date"))
                cast = cast.set(unsettled, None)
                reported = reported | unsettled
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
