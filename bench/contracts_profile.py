"""Where the contract's time goes, per entity: `python -m bench.contracts_profile [--size F]`.

The ingestion measurement reports the contract (`BatchValidator.validate`) as one figure;
this splits it into its steps on the same landing files, batch by batch as a load reads
them: `coerce` (text to types, blank text to null), `fiscal_year` (the year of each row),
`pandera` (`schema.validate`, every rule of the entity's model plus the load's
`known_service` / `in_fiscal_year` / `unique_id` checks, failure cases included),
`seen_ids` (remembering the accepted ids for the next batches) and `rejects` (what is
left of `validate`: sorting out each failing row's first reason and its quarantine row).
`pandera_checks` counts the lazy frames pandera collects per batch (one pass over the
batch each). Landing files are those of the bench's own cache (generated if missing).
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from pathlib import Path

ENTITIES = ("queue_events", "web_sessions", "service_requests", "survey_responses", "ledger_entries")


def profile_entity(landing: Path, entity_name: str, year: int) -> dict:
    import polars as pl

    import contracts.validate as validate_mod
    from contracts.entities import ENTITIES as CANONICAL
    from contracts.rules import LoadContext
    from ingestion.landing import landing_files
    from ingestion.pipeline import _text_columns
    from ingestion.readers import iter_batches
    from polars.lazyframe.frame import LazyFrame

    entity = CANONICAL[entity_name]
    services = landing_files(landing, "services", year)
    known = frozenset(pl.read_csv(services[0], infer_schema=False)["service_id"].to_list()) if services else None
    ctx = LoadContext(year, 1, known)
    validator = validate_mod.BatchValidator(entity, ctx)
    acc: dict[str, float] = defaultdict(float)
    collects = [0]

    def timed(name, fn):
        def wrapper(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                acc[name] += time.perf_counter() - t0

        return wrapper

    saved = {
        "coerce": validate_mod.coerce,
        "fiscal_year_expr": validate_mod.fiscal_year_expr,
        "add": ctx.seen_ids.add,
    }
    validate_mod.coerce = timed("coerce", saved["coerce"])
    ctx.seen_ids.add = timed("seen_ids", saved["add"])  # type: ignore[method-assign]
    orig_collect = LazyFrame.collect

    def counting_collect(self, *args, **kwargs):
        collects[0] += 1
        return orig_collect(self, *args, **kwargs)

    orig_schema_for = validate_mod.schema_for

    def schema_for(ent, c):
        schema = orig_schema_for(ent, c)
        schema.validate = timed("pandera", schema.validate)  # type: ignore[method-assign]
        return schema

    validate_mod.schema_for = schema_for
    LazyFrame.collect = counting_collect  # type: ignore[method-assign]
    rows = batches = 0
    total = 0.0
    try:
        for path in landing_files(landing, entity_name, year):
            for batch in iter_batches(path, _text_columns(entity)):
                frame = pl.from_arrow(batch)
                t0 = time.perf_counter()
                validator.validate(frame)
                total += time.perf_counter() - t0
                rows += frame.height
                batches += 1
    finally:
        validate_mod.coerce = saved["coerce"]
        validate_mod.schema_for = orig_schema_for
        LazyFrame.collect = orig_collect  # type: ignore[method-assign]
    parts = {k: acc[k] for k in ("coerce", "pandera", "seen_ids")}
    parts["fiscal_year_and_rejects"] = total - sum(parts.values())
    return {
        "rows": rows,
        "batches": batches,
        "validate_s": total,
        "ns_per_row": total / rows * 1e9 if rows else None,
        "parts_s": parts,
        "lazy_collects_per_batch": collects[0] / batches if batches else 0,
    }


def main(argv: list[str] | None = None) -> int:
    from bench.workload import TARGET_YEAR, Workload, ensure_landing

    p = argparse.ArgumentParser(prog="python -m bench.contracts_profile", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--size", type=float, default=0.1, help="fraction of the national workload (default 0.1)")
    p.add_argument("--out", default="bench/out", help="output folder holding the landing cache")
    p.add_argument("--entities", default=",".join(ENTITIES))
    args = p.parse_args(argv)
    landing, _ = ensure_landing(Workload(args.size, "national"), Path(args.out) / "landing", [TARGET_YEAR])
    print(f"contract time by step, {args.size:g} of national, FY{TARGET_YEAR} (seconds)")
    print("| entity | rows | validate | ns/row | coerce | pandera | seen ids | fiscal year + rejects | pandera passes/batch |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name in [e.strip() for e in args.entities.split(",") if e.strip()]:
        r = profile_entity(landing, name, TARGET_YEAR)
        parts = r["parts_s"]
        print(f"| {name} | {r['rows']:,} | {r['validate_s']:.2f} | {r['ns_per_row']:.0f} | {parts['coerce']:.2f} | "
              f"{parts['pandera']:.2f} | {parts['seen_ids']:.2f} | {parts['fiscal_year_and_rejects']:.2f} | "
              f"{r['lazy_collects_per_batch']:.0f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
