"""Staging one load: (source file, Arrow batch) pairs of one entity -> contracts -> staged Parquet.

dlt extracts the files as Arrow batches and stages the valid rows as Parquet in a
working directory of the load's own (two runs never share a dlt pipeline directory).
The contract sits inside the resource, between extract and load: rejected rows never
reach the staged data; they are streamed to the load's quarantine file with reasons.
The lake then commits staged data and quarantine in one Iceberg commit per table.
"""

from __future__ import annotations

import ctypes
import gc
import itertools
import shutil
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import dlt
import polars as pl
import pyarrow as pa
from dlt.pipeline.exceptions import PipelineStepFailed

from contracts.entities import Entity
from contracts.errors import ContractError
from contracts.rules import LoadContext
from contracts.staged import StagedLoad
from contracts.validate import BatchValidator
from ingestion.errors import SourceFileError
from ingestion.pseudonymise import Keyring, protect
from ingestion.quarantine_sink import QuarantineSink
from ingestion.readers import iter_batches

# loads of at least this many rows free their batches at once (release_memory)
RELEASE_MEMORY_ROWS = 100_000


def _text_columns(entity: Entity) -> tuple[str, ...]:
    return tuple(c for c, t in entity.columns.items() if t == pl.String or isinstance(t, pl.Datetime))


def _timestamp_hints(entity: Entity) -> dict:
    hints = {
        c: {"data_type": "timestamp", "timezone": False}
        for c, t in entity.columns.items()
        if isinstance(t, pl.Datetime)
    }
    hints["fiscal_year"] = {"data_type": "bigint", "precision": 32}
    return hints


def file_batches(entity: Entity, files: list[Path]) -> Iterator[tuple[str, pa.RecordBatch]]:
    """(source file, Arrow batch) pairs of one entity's landing files, read as they are consumed."""
    text_cols = _text_columns(entity)
    return ((str(path), batch) for path in files for batch in iter_batches(path, text_cols))


def validate_batches(
    entity: Entity, batches: Iterable[tuple[str, pa.RecordBatch]], ctx: LoadContext, keyring: Keyring | None
) -> Iterator[tuple[str, int, pl.DataFrame, pl.DataFrame]]:
    """(source file, rows received, valid rows, rejected rows) per batch: protected, then
    validated. A batch refused as a whole names its file; a data error the readers or
    the contract did not foresee is a SourceFileError too (never retried as transient)."""
    # The validator (with its cross-batch id index) lives in the generator's frame, so
    # it is freed when the generator is drained, not kept by the caller.
    validator = BatchValidator(entity, ctx)
    for path, batch in batches:
        try:
            frame = pl.from_arrow(batch)
            assert isinstance(frame, pl.DataFrame)
            frame = protect(frame, entity, keyring)
            valid, rejects = validator.validate(frame)
        except ContractError as err:
            if type(err) is not ContractError:  # a missing key: not about this file
                raise
            raise ContractError(f"{path}: {err}") from err
        except (pl.exceptions.PolarsError, pa.ArrowException) as err:
            raise SourceFileError(path, f"{type(err).__name__}: {str(err).splitlines()[0]}") from err
        yield path, batch.num_rows, valid, rejects


def stage_batches(
    entity: Entity,
    batches: Iterable[tuple[str, pa.RecordBatch]],
    ctx: LoadContext,
    load_id: str,
    work_dir: Path,
    source: str,
    files: list[str] | None = None,
    keyring: Keyring | None = None,
) -> StagedLoad:
    """Protect, validate and stage (source file, Arrow batch) pairs of one entity, from any feed.

    `files` names the source files known before reading (a landing folder's files, read
    or empty); the files of the batches are added as they arrive. Personal columns are
    protected with `keyring` before the contracts (`ingestion.pseudonymise`): neither the
    staged rows nor the quarantined ones ever hold their clear values."""
    work_dir.mkdir(parents=True, exist_ok=True)
    staged = StagedLoad(
        entity.name, ctx.fiscal_year, load_id, source, [], None, files=list(files or []), work_dir=work_dir
    )
    sink = QuarantineSink(work_dir / "quarantine.parquet", entity.name, ctx.fiscal_year, load_id, source)
    seen_files: set[str] = set(staged.files)
    shapes: dict[tuple, str] = {}

    def valid_batches() -> Iterator[pa.Table]:
        for path, received, valid, rejects in validate_batches(entity, batches, ctx, keyring):
            if path not in seen_files:
                seen_files.add(path)
                staged.files.append(path)
            staged.received += received
            sink.write(rejects, path)
            staged.quarantined += rejects.height
            staged.loaded += valid.height
            staged.count(staged.loaded_by_year, valid["fiscal_year"])
            staged.count(staged.quarantined_by_year, rejects["fiscal_year"])
            if valid.height:
                table = valid.with_columns(
                    pl.lit(load_id).alias("_load_id"),
                    pl.lit(source).alias("_source"),
                    pl.lit(path).alias("_source_file"),
                ).to_arrow()
                # A file with other extra columns than the previous one (two export
                # formats in one load) is staged as its own table; the lake unifies them.
                shape = tuple((f.name, str(f.type)) for f in table.schema)
                # ("__" would make dlt read it as a nested table)
                name = shapes.setdefault(shape, entity.name if not shapes else f"{entity.name}_shape{len(shapes)}")
                yield table if name == entity.name else dlt.mark.with_table_name(table, name)

    t0 = time.perf_counter()
    batches_out = valid_batches()
    try:
        # dlt starts (about 1 s: its configuration, extract, normalise and load steps) only
        # for a load with a valid row; one without (no file, or every row quarantined) has
        # read and checked all its rows once it finds none, and stages no Parquet.
        first = next(batches_out, None)
        if first is not None:
            _run_dlt(entity, itertools.chain([first], batches_out), work_dir)
    finally:
        staged.quarantine_file = sink.close()
        del batches_out
        # a cyclic collection of a big process (Dagster, the dbt manifest) costs ~1 s: only
        # a load large enough to leave megabytes of Arrow buffers in cycles pays it
        if staged.received >= RELEASE_MEMORY_ROWS:
            release_memory()
    staged.seconds["extract_validate_stage"] = time.perf_counter() - t0
    staged_root = work_dir / "staged" / "staged"
    staged.data_files = sorted(f for name in shapes.values() for f in (staged_root / name).glob("*.parquet"))
    if not staged.balanced:  # pragma: no cover - a bug, never a data problem
        raise RuntimeError(
            f"row accounting broken for {entity.name} FY{ctx.fiscal_year}: received {staged.received} "
            f"!= loaded {staged.loaded} + quarantined {staged.quarantined}"
        )
    return staged


def _run_dlt(entity: Entity, tables: Iterator[pa.Table], work_dir: Path) -> None:
    """Stage the valid tables as Parquet through a dlt pipeline of the load's own directory."""
    resource = dlt.resource(tables, name=entity.name, write_disposition="append")
    resource.apply_hints(columns=_timestamp_hints(entity))
    pipeline = dlt.pipeline(
        pipeline_name=f"civic_{entity.name}",
        pipelines_dir=str(work_dir / "dlt"),
        destination=dlt.destinations.filesystem(bucket_url=(work_dir / "staged").as_uri()),
        dataset_name="staged",
    )
    try:
        pipeline.run(resource, loader_file_format="parquet")
    except PipelineStepFailed as failed:
        raise _root_cause(failed) from failed


def release_memory() -> None:
    """Free a finished load's batches now: dlt's pipeline and the resource's generator
    frames hold them in reference cycles (405 MB of Arrow buffers after a 20 M-row load
    until the next cyclic GC), and hand Arrow's and glibc's idle pages back to the
    system, so the next load and dbt do not start on top of the last load's peak."""
    gc.collect()
    pa.default_memory_pool().release_unused()
    _malloc_trim()


def _malloc_trim() -> None:
    """glibc keeps freed heap pages mapped (~100 MB after 20 M queue events); trim them."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc (macOS, musl): nothing to trim
        pass


def _root_cause(err: BaseException) -> BaseException:
    """The contract or file error dlt wrapped, so the user sees what is wrong with the data."""
    seen = err
    while seen is not None:
        if isinstance(seen, (ContractError, SourceFileError)):
            return seen
        seen = seen.__cause__ or seen.__context__
    return err


def discard(work_dir: Path) -> None:
    """Remove a load's working directory once the lake has committed (or refused) it."""
    shutil.rmtree(work_dir, ignore_errors=True)
