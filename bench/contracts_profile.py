"""Where the contract's time goes, per entity: `python -m bench.contracts_profile [--size F] [--compare N]`.

The ingestion measurement reports the contract (`BatchValidator.validate`) as one figure;
this splits it into its steps on the same landing files, batch by batch as a load reads
them: `coerce` (text to types, blank text to null), `pandera` (`pandera_failures`: every
rule of the entity's model plus the load's `known_service` / `in_fiscal_year` /
`unique_id` checks, failure cases included), `seen_ids` (remembering the accepted ids for
the next batches) and `fiscal_year_and_rejects` (what is left of `validate`: the year of
each row, and sorting out each failing row's first reason and its quarantine row).
`lazy_collects_per_batch` counts the lazy frames collected per batch (pandera's own
`validate` collects each check on its own; the one-pass path, `contracts.one_pass`, all
of them at once). `--compare N` runs each entity N times on each path, alternating
(the reference path is pandera's `validate` on every whole batch), and prints the ratio:
on a loaded machine only paired figures say anything. Landing files are those of the
bench's own cache (generated if missing).
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

from bench.stats import patched, timed

ENTITIES = ("queue_events", "web_sessions", "service_requests", "survey_responses", "ledger_entries")


def profile_entity(landing: Path, entity_name: str, year: int, one_pass: bool = True) -> dict:
    import polars as pl

    import contracts.validate as validate_mod
    from contracts.entities import ENTITIES as CANONICAL
    from contracts.rules import LoadContext
    from ingestion.landing import landing_files
    from ingestion.readers import iter_batches
    from ingestion.staging import _text_columns

    entity = CANONICAL[entity_name]
    services = landing_files(landing, "services", year)
    known = frozenset(pl.read_csv(services[0], infer_schema=False)["service_id"].to_list()) if services else None
    ctx = LoadContext(year, known_services=known)
    validator = validate_mod.BatchValidator(entity, ctx, one_pass=one_pass)
    acc: dict[str, float] = defaultdict(float)
    collects = [0]
    orig_collect = pl.LazyFrame.collect

    def counting_collect(self, *args, **kwargs):
        collects[0] += 1
        return orig_collect(self, *args, **kwargs)

    rows = batches = 0
    with patched(
        [
            (validate_mod, "coerce", timed(acc, "coerce", validate_mod.coerce)),
            (validate_mod, "pandera_failures", timed(acc, "pandera", validate_mod.pandera_failures)),
            (ctx.seen_ids, "add", timed(acc, "seen_ids", ctx.seen_ids.add)),
            (pl.LazyFrame, "collect", counting_collect),
        ]
    ):
        validate = timed(acc, "validate", validator.validate)
        for path in landing_files(landing, entity_name, year):
            for batch in iter_batches(path, _text_columns(entity)):
                frame = pl.from_arrow(batch)
                validate(frame)
                rows += frame.height
                batches += 1
    parts = {k: acc[k] for k in ("coerce", "pandera", "seen_ids")}
    # what validate spends outside the timed steps (can only be negative if they overlap)
    parts["fiscal_year_and_rejects"] = acc["validate"] - sum(parts.values())
    return {
        "rows": rows,
        "batches": batches,
        "validate_s": acc["validate"],
        "ns_per_row": acc["validate"] / rows * 1e9 if rows else None,
        "parts_s": parts,
        "lazy_collects_per_batch": collects[0] / batches if batches else 0,
    }


def main(argv: list[str] | None = None) -> int:
    from bench.workload import TARGET_YEAR, Workload, ensure_landing

    p = argparse.ArgumentParser(
        prog="python -m bench.contracts_profile",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--size", type=float, default=0.1, help="fraction of the national workload (default 0.1)")
    p.add_argument("--out", default="bench/out", help="output folder holding the landing cache")
    p.add_argument("--entities", default=",".join(ENTITIES))
    p.add_argument(
        "--compare",
        type=int,
        default=0,
        metavar="N",
        help="N alternating rounds of pandera on every whole batch (reference) and the one-pass screen",
    )
    args = p.parse_args(argv)
    landing, _ = ensure_landing(Workload(args.size, "national"), Path(args.out) / "landing", [TARGET_YEAR])
    print(f"contract time by step, {args.size:g} of national, FY{TARGET_YEAR} (seconds)")
    print(
        "| entity | path | rows | validate | ns/row | coerce | pandera | seen ids | fiscal year + rejects "
        "| pandera passes/batch |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    modes = [False, True] * args.compare if args.compare else [True]
    totals: dict[bool, dict[str, float]] = {m: defaultdict(float) for m in (False, True)}
    for name in [e.strip() for e in args.entities.split(",") if e.strip()]:
        for one_pass in modes:
            r = profile_entity(landing, name, TARGET_YEAR, one_pass=one_pass)
            parts = r["parts_s"]
            totals[one_pass]["validate"] += r["validate_s"]
            totals[one_pass]["pandera"] += parts["pandera"]
            print(
                f"| {name} | {'one pass' if one_pass else 'reference'} | {r['rows']:,} | {r['validate_s']:.2f} | "
                f"{r['ns_per_row']:.0f} | {parts['coerce']:.2f} | {parts['pandera']:.2f} | {parts['seen_ids']:.2f} | "
                f"{parts['fiscal_year_and_rejects']:.2f} | {r['lazy_collects_per_batch']:.0f} |",
                flush=True,
            )
    if args.compare:
        ref, new = totals[False], totals[True]
        print(
            f"over {args.compare} alternating round(s): validate {ref['validate']:.2f} -> {new['validate']:.2f} s "
            f"(x{new['validate'] / ref['validate']:.2f}), pandera {ref['pandera']:.2f} -> {new['pandera']:.2f} s "
            f"(x{new['pandera'] / ref['pandera']:.2f})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
