"""A pandera schema's data checks on a batch, collected in one pass.

pandera's polars backend runs each check on its own, with two or three collects each and
its failure-case bookkeeping (27-36 checks a batch, bench/RESULTS.md). Here the checks of
the same schema object (each column's nullability and `Check`s, then the dataframe
checks) are built by pandera's own check backend, as `validate` builds them, applied to
the whole batch (so `unique_id` still compares a row with every other row), and their
boolean columns are collected together once. The failure cases are then read off those
columns in the form pandera's `SchemaErrors.failure_cases` gives them: one row per
failing row and check, in pandera's order, with the check's name and the failing value.
Whatever pandera could answer otherwise (a check that fails the frame as a whole or
raises, a schema option changing data or comparing columns) is left to `validate`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandera.polars as pa
import polars as pl
from pandera.api.polars.types import PolarsData
from pandera.api.polars.utils import get_validation_depth
from pandera.config import ValidationDepth, get_config_context
from pandera.constants import CHECK_OUTPUT_KEY

NOT_NULLABLE = "not_nullable"  # pandera's name of the nullability check


def _one_pass_possible(schema: pa.DataFrameSchema, frame: pl.DataFrame) -> bool:
    """Whether the schema uses nothing one pass would answer otherwise than `validate`
    (anything that changes the data, compares whole columns or caps failure cases)."""
    if not get_config_context().validation_enabled:
        return False  # validate checks nothing then
    if get_validation_depth(frame) is not ValidationDepth.SCHEMA_AND_DATA:
        return False
    if schema.unique or schema.dtype is not None or schema.add_missing_columns or schema.drop_invalid_rows:
        return False
    checks = list(schema.checks)
    for col in schema.columns.values():
        if col.regex or col.unique or col.default is not None or col.drop_invalid_rows:
            return False
        checks.extend(col.checks)
    return all(c.n_failure_cases is None and c.groupby is None for c in checks)


def _check_output(check: pa.Check, frame: pl.LazyFrame, key: str) -> pl.LazyFrame | bool:
    """One check's boolean column, as `pandera.backends.polars.checks` computes it."""
    name = getattr(check._check_fn, "__name__", None)
    if name is not None and check.is_builtin_check(name):  # as Check.__call__ does
        check._check_fn = check.get_builtin_check_fn(name)
    backend = check.get_backend(frame)(check)
    out = backend.apply(PolarsData(backend.preprocess(frame, key), key))
    if isinstance(out, bool):
        return out
    col = pl.col(CHECK_OUTPUT_KEY)
    return out.select(col | col.is_null() if check.ignore_na else col.fill_null(False))


def _identifier(check: pa.Check) -> str:
    """The name pandera's failure cases give a check."""
    return check.error if check.error is not None else check.name if check.name is not None else str(check)


@dataclass
class _Output:
    column: str | None  # None: a dataframe check
    check: str  # its identifier
    frame: pl.LazyFrame


def failure_cases(schema: pa.DataFrameSchema, frame: pl.DataFrame) -> pl.DataFrame | None:
    """The row-level failure cases `schema.validate(frame, lazy=True)` reports (columns
    index, check, schema_context, column, failure_case), empty when every row passes;
    None when the answer must come from `validate` itself. Checks the data only: the
    table-level checks (columns present, their types) are `validate`'s."""
    if not _one_pass_possible(schema, frame):
        return None
    lf = frame.lazy()
    names = frame.collect_schema()
    outputs: list[_Output] = []
    try:
        for name, col in schema.columns.items():
            if name not in names:
                continue  # a required one is a table-level failure, left to validate
            if not col.nullable:
                present = pl.col(name).is_not_null()
                if names[name] in (pl.Float32, pl.Float64):
                    present = present & pl.col(name).is_not_nan()
                outputs.append(_Output(name, NOT_NULLABLE, lf.select(present.alias(CHECK_OUTPUT_KEY))))
            for check in col.checks:
                if not check.raise_warning:  # a warning check never fails a row
                    out = _check_output(check, lf, name)
                    if out is False:
                        return None  # a whole-frame failure: table-level, left to validate
                    if out is not True:
                        outputs.append(_Output(name, _identifier(check), out))
        for check in schema.checks:
            if not check.raise_warning:
                out = _check_output(check, lf, "*")
                if out is False:
                    return None
                if out is not True:
                    outputs.append(_Output(None, _identifier(check), out))
        # one collect for every check; a shorter output (a literal) speaks for its first rows only
        columns = [o.frame.select(pl.col(CHECK_OUTPUT_KEY).alias(f"c{i}")) for i, o in enumerate(outputs)]
        ok = pl.concat(columns, how="horizontal").fill_null(True).collect() if columns else None
    except Exception:  # a check that cannot run: validate reports it, as a table-level failure
        return None
    if ok is None:
        return _CASES.clear()
    if ok.height != frame.height:
        return None
    failing = [(o, ok[f"c{i}"]) for i, o in enumerate(outputs) if not ok[f"c{i}"].all()]
    return pl.concat([_cases(o, frame, passed, schema.name) for o, passed in failing]) if failing else _CASES.clear()


_CASES = pl.DataFrame(
    schema={
        "index": pl.Int64,
        "check": pl.String,
        "schema_context": pl.String,
        "column": pl.String,
        "failure_case": pl.String,
    }
)


def _cases(output: _Output, frame: pl.DataFrame, ok: pl.Series, schema_name: str | None) -> pl.DataFrame:
    """One failing check's failure cases, as pandera's `failure_cases_metadata` writes them:
    a column check's failing value, a dataframe check's failing row as JSON."""
    index = ok.not_().arg_true().cast(pl.Int64)
    if output.column is None:
        rows = frame[index]
        value = pl.Series(rows.rows(named=True)).struct.json_encode() if rows.width > 1 else rows.to_series()
    else:
        value = frame[output.column].gather(index)
    return pl.DataFrame(
        {
            "index": index,
            "check": pl.Series([output.check] * index.len(), dtype=pl.String),
            "schema_context": pl.Series(["Column" if output.column else "DataFrameSchema"] * index.len()),
            "column": pl.Series([output.column or schema_name] * index.len(), dtype=pl.String),
            "failure_case": value.cast(pl.String),
        },
        schema=_CASES.schema,
    )
