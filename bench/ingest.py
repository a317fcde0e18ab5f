"""1. Ingestion: rows/s from landing files to committed Iceberg rows, contracts included.

Production path: `orchestration.load.flow.ingest_year` per entity (services first: the
other entities check their service ids against it), each rep in an empty lake. Time is
split by wrapping, in this process only, the functions the pipeline calls: reading the
landing files (`iter_batches`), the contract (`BatchValidator.validate`), the rest of the
staging (polars <-> Arrow, quarantine file, dlt normalise + Parquet), and the Iceberg
commit (`commit_staged`: quarantine, raw partition, ledger row).

Floor: pyarrow alone reads the same landing files (its own type inference, same block
size) and writes the same rows to Parquet (snappy, like dlt) on the same disk.
"""

from __future__ import annotations

import contextlib
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.json as pajson
import pyarrow.parquet as pq

from bench.env import activate, fresh_dir
from bench.stats import patched, repeat, summary, timed
from bench.workload import ENTITIES

BLOCK_BYTES = 16 << 20


@contextlib.contextmanager
def instrumented(acc: dict[str, float]) -> Iterator[None]:
    """Accumulate seconds spent in reading, contracts, staging and commit into `acc`."""
    import contracts.validate as validate_mod
    import ingestion.staging as staging_mod
    import orchestration.load.flow as ingest_mod

    # If the production code no longer calls one of these, its share reads 0 (the total
    # time per entity stays right).
    orig_validate = validate_mod.BatchValidator.validate
    orig_iter = getattr(staging_mod, "iter_batches", None)
    orig_stage = ingest_mod.stage_batches
    orig_commit = ingest_mod.commit_staged

    def iter_batches(path, text_columns=()):
        it = orig_iter(path, text_columns)
        while True:
            t0 = time.perf_counter()
            try:
                batch = next(it)
            except StopIteration:
                acc["read"] += time.perf_counter() - t0
                return
            acc["read"] += time.perf_counter() - t0
            yield batch

    with patched(
        [
            (validate_mod.BatchValidator, "validate", timed(acc, "contracts", orig_validate)),
            *([(staging_mod, "iter_batches", iter_batches)] if orig_iter else []),
            (ingest_mod, "stage_batches", timed(acc, "stage", orig_stage)),
            (ingest_mod, "commit_staged", timed(acc, "commit", orig_commit)),
        ]
    ):
        yield


def ingest_all(home: Path, landing: Path, year: int, entities=ENTITIES) -> dict[str, dict]:
    """Load one fiscal year of every entity into the lake at `home`; per-entity figures."""
    from lake.catalog import open_catalog
    from lake.settings import load_settings
    from orchestration.load.flow import ingest_year

    activate(home, landing)
    settings = load_settings()
    catalog = open_catalog(settings)
    out: dict[str, dict] = {}
    for entity in entities:
        acc: dict[str, float] = defaultdict(float)
        with instrumented(acc):
            t0 = time.perf_counter()
            rec = ingest_year(settings, catalog, entity, year)
            took = time.perf_counter() - t0
        out[entity] = {
            "seconds": took,
            "received": rec.received,
            "loaded": rec.loaded,
            "quarantined": rec.quarantined,
            "read_s": acc["read"],
            "contracts_s": acc["contracts"],
            "stage_other_s": acc["stage"] - acc["read"] - acc["contracts"],
            "commit_s": acc["commit"],
            "other_s": took - acc["stage"] - acc["commit"],
        }
    return out


def _pyarrow_batches(path: Path) -> Iterator[pa.RecordBatch]:
    if path.suffix == ".parquet":
        yield from pq.ParquetFile(path).iter_batches(batch_size=262_144)
    elif path.suffix == ".csv":
        yield from pacsv.open_csv(path, read_options=pacsv.ReadOptions(block_size=BLOCK_BYTES))
    else:
        yield from pajson.open_json(path, read_options=pajson.ReadOptions(block_size=BLOCK_BYTES))


def _floor_file(src: Path, dst: Path) -> tuple[int, bool]:
    """Copy one landing file to Parquet; (rows, fell back to text columns)."""
    try:
        return _write(src, dst, _pyarrow_batches(src)), False
    except pa.ArrowInvalid:
        # a later block's value contradicts the type pyarrow inferred from the first block
        from ingestion.readers import iter_batches

        return _write(src, dst, iter_batches(src)), True


def _write(src: Path, dst: Path, batches: Iterator[pa.RecordBatch]) -> int:
    rows = 0
    writer: pq.ParquetWriter | None = None
    try:
        for batch in batches:
            if writer is None:
                writer = pq.ParquetWriter(dst, batch.schema, compression="snappy")
            writer.write_batch(batch)
            rows += batch.num_rows
    finally:
        if writer is not None:
            writer.close()
    return rows


def floor_all(out_dir: Path, landing: Path, year: int, entities=ENTITIES) -> dict[str, dict]:
    from ingestion.landing import landing_files

    fresh_dir(out_dir)
    result: dict[str, dict] = {}
    for entity in entities:
        folder = fresh_dir(out_dir / entity)
        t0 = time.perf_counter()
        rows, fallbacks = 0, 0
        for f in landing_files(landing, entity, year):
            n, fell_back = _floor_file(f, folder / f"{f.stem}.parquet")
            rows += n
            fallbacks += fell_back
        result[entity] = {"seconds": time.perf_counter() - t0, "rows": rows, "text_fallback_files": fallbacks}
    return result


def warm_page_cache(landing: Path) -> None:
    for f in landing.rglob("*"):
        if f.is_file():
            with open(f, "rb") as fh:
                while fh.read(1 << 24):
                    pass


def _rate(rows: int, seconds: float) -> float | None:
    return rows / seconds if seconds > 0 else None


def measure(ctx) -> dict:
    """Run both paths `ctx.reps` times; leaves the last production lake as `ctx.lake_home`."""
    year = ctx.year
    warm_page_cache(ctx.landing / "services")
    for entity in ENTITIES:
        warm_page_cache(ctx.landing / entity / f"fy={year}")
    prod_runs: list[dict] = []
    floor_runs: list[dict] = []

    def one(i: int) -> dict:
        floor = floor_all(ctx.scratch / "ingest-floor", ctx.landing, year)
        floor_runs.append(floor)
        home = fresh_dir(ctx.scratch / f"ingest-{i}")
        prod = ingest_all(home, ctx.landing, year)
        prod_runs.append(prod)
        if i > 0:
            fresh_dir(ctx.scratch / f"ingest-{i - 1}")  # keep only the newest lake
        ctx.lake_home = home
        return {"seconds": sum(e["seconds"] for e in prod.values())}

    repeat(one, ctx.reps, ctx.log, "ingestion")
    per_entity: dict[str, dict] = {}
    for entity in [*ENTITIES, "total"]:

        def pick(runs, key, entity=entity):
            if entity == "total":
                return [sum(r[e][key] for e in ENTITIES) for r in runs]
            return [r[entity][key] for r in runs]

        rows = pick(prod_runs, "received")[0]
        secs = pick(prod_runs, "seconds")
        floor_secs = pick(floor_runs, "seconds")
        rate = summary([_rate(rows, s) for s in secs])
        floor_rate = summary([_rate(rows, s) for s in floor_secs])
        contracts = pick(prod_runs, "contracts_s")
        per_entity[entity] = {
            "rows": rows,
            "loaded": pick(prod_runs, "loaded")[0],
            "quarantined": pick(prod_runs, "quarantined")[0],
            "floor_rows": pick(floor_runs, "rows")[0],
            "seconds": summary(secs),
            "rows_per_s": rate,
            "floor_seconds": summary(floor_secs),
            "floor_rows_per_s": floor_rate,
            "ratio_to_floor": (rate["median"] / floor_rate["median"])
            if rate["median"] and floor_rate["median"]
            else None,
            "breakdown_s": {
                k: summary(pick(prod_runs, k))
                for k in ("read_s", "contracts_s", "stage_other_s", "commit_s", "other_s")
            },
            "contracts_share": summary([c / s for c, s in zip(contracts, secs) if s > 0]),
        }
        if entity != "total":
            per_entity[entity]["floor_text_fallback_files"] = floor_runs[0][entity]["text_fallback_files"]
    ctx.ingest_floor_s = per_entity["total"]["floor_seconds"]["median"]
    return {"fiscal_year": year, "reps": len(prod_runs), "entities": per_entity}
