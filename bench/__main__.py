"""The bench runner: `uv run python -m bench [--size FRACTION | --national] [options]`.

Examples:
    uv run python -m bench --size 0.01                      # 1 % of national, all measurements
    uv run python -m bench --size 0.1 --publish bench/RESULTS.md
    uv run python -m bench --national --publish bench/RESULTS.md
    uv run python -m bench --size 0.1 --only ingestion,marts   # merged into that size's results

Writes <out>/results-<mix>-<size>.json (raw figures) and .md (the report); landing files are
cached in <out>/landing and lakes live in <out>/scratch-* (removed at the end unless --keep).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import shlex
import sys
import time
import traceback
import warnings
from pathlib import Path

MEASUREMENTS = ("ingestion", "marts", "e2e", "incremental", "queries", "peer")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--size",
        type=float,
        default=0.01,
        help="fraction of the national workload (1 = 20 M queue events a year; default 0.01)",
    )
    p.add_argument("--national", action="store_true", help="the national workload (same as --size 1)")
    p.add_argument(
        "--mix",
        choices=("national", "demo"),
        default="national",
        help="national: per-entity generator sizes matching the national mix (default); "
        "demo: the generator's own mix at one size",
    )
    p.add_argument("--year", type=int, default=2025, help="the fiscal year refreshed (default 2025)")
    p.add_argument("--reps", type=int, default=3, help="runs per figure (a run over a minute is not repeated)")
    p.add_argument("--only", default="", help=f"comma-separated subset of {','.join(MEASUREMENTS)}")
    p.add_argument("--skip", default="", help="comma-separated measurements to leave out")
    p.add_argument("--skip-peer", action="store_true", help="leave out the PySpark peer")
    p.add_argument("--bi-samples", type=int, default=30, help="in-process samples per BI query (default 30)")
    p.add_argument("--cli-samples", type=int, default=3, help="CLI samples per BI query (default 3)")
    p.add_argument("--out", default="bench/out", help="output folder (default bench/out)")
    p.add_argument("--publish", default="", help="also write the Markdown report here (e.g. bench/RESULTS.md)")
    p.add_argument("--keep", action="store_true", help="keep the scratch lakes")
    p.add_argument(
        "--report-only",
        action="store_true",
        help="measure nothing: write the report again from that size's results JSON",
    )
    args = p.parse_args(argv)
    if args.national:
        args.size = 1.0
    if args.size <= 0:
        p.error("--size must be positive")
    return args


def selected(args) -> list[str]:
    chosen = [s.strip() for s in args.only.split(",") if s.strip()] or list(MEASUREMENTS)
    skipped = {s.strip() for s in args.skip.split(",") if s.strip()} | ({"peer"} if args.skip_peer else set())
    unknown = (set(chosen) | skipped) - set(MEASUREMENTS)
    if unknown:
        raise SystemExit(f"unknown measurement(s): {', '.join(sorted(unknown))}")
    return [m for m in MEASUREMENTS if m in chosen and m not in skipped]


def log(msg: str) -> None:
    print(msg, flush=True)


def main(argv: list[str] | None = None) -> int:
    """Run the bench; the environment (measurements point it at scratch homes) is restored."""
    saved = dict(os.environ)
    try:
        return _main(sys.argv[1:] if argv is None else argv)
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _main(argv: list[str]) -> int:
    args = parse_args(argv)
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    warnings.filterwarnings("ignore", message="Parameter `backfill_policy`")
    warnings.filterwarnings("ignore", category=DeprecationWarning)

    from bench import e2e, incremental, ingest, marts, peer_spark, queries
    from bench.context import Context
    from bench.env import code_state, fresh_dir, machine, versions
    from bench.results import evaluate_targets, markdown, merge, write_json
    from bench.serving import keep_section
    from bench.workload import ENTITIES, NATIONAL_ROWS, Workload, ensure_landing, landing_rows

    modules = {
        "ingestion": ingest,
        "marts": marts,
        "e2e": e2e,
        "incremental": incremental,
        "queries": queries,
        "peer": peer_spark,
    }
    todo = selected(args)
    workload = Workload(args.size, args.mix)
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    stem = f"results-{workload.mix}-{workload.fraction:g}"
    if args.report_only:
        results = json.loads((out / f"{stem}.json").read_text())
        results["targets"] = evaluate_targets(results)
        report = markdown(results)
        (out / f"{stem}.md").write_text(report)
        if args.publish:
            Path(args.publish).write_text(keep_section(Path(args.publish), report))  # and bench.serving's
        log(f"bench: report written from {out / (stem + '.json')}")
        return 0
    started = dt.datetime.now().astimezone()
    meta = {
        "started_at": started.isoformat(timespec="seconds"),
        "command": "uv run python -m bench " + " ".join(shlex.quote(a) for a in argv),
        "workload": {
            "fraction": workload.fraction,
            "mix": workload.mix,
            "label": workload.label,
            "generator_sizes": {e: round(workload.generator_size(e), 4) for e in ENTITIES},
            "national_rows": NATIONAL_ROWS,
        },
        "fiscal_year": args.year,
        "reps": args.reps,
        "measurements_run": todo,
        "machine": machine(),
        "versions": versions(),
        "code": code_state(),
    }
    log(f"bench: {workload.label}, FY{args.year}, {args.reps} rep(s): {', '.join(todo)}")
    landing, gen_s = ensure_landing(workload, out / "landing", [args.year])
    meta["generation_s"] = gen_s
    meta["landing"] = landing_rows(landing, args.year)
    log(
        f"  landing {landing} ({f'generated in {gen_s:.1f}s' if gen_s else 'cached'}): "
        + ", ".join(f"{e} {r['rows']:,}" for e, r in meta["landing"].items())
    )

    scratch = fresh_dir(out / f"scratch-{workload.key()}")
    ctx = Context(
        workload=workload,
        year=args.year,
        reps=args.reps,
        scratch=scratch,
        landing_root=out / "landing",
        landing=landing,
        keep=args.keep,
        bi_samples=args.bi_samples,
        cli_samples=args.cli_samples,
        log=log,
    )
    measurements: dict[str, dict] = {}
    failed = []
    for name in todo:
        log(f"  [{name}]")
        t0 = time.perf_counter()
        try:
            measurements[name] = modules[name].measure(ctx)
        except Exception as err:  # keep going: one broken figure must not hide the others
            failed.append(name)
            measurements[name] = {"error": f"{type(err).__name__}: {err}", "traceback": traceback.format_exc()[-3000:]}
            log(f"    FAILED: {type(err).__name__}: {str(err)[:2000]}")
        measurements[name]["measured_at"] = dt.datetime.now().astimezone().isoformat(timespec="seconds")
        measurements[name]["code"] = meta["code"]
        measurements[name]["command"] = meta["command"]
        measurements[name]["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
        measurements[name]["took_s"] = time.perf_counter() - t0
        log(f"  [{name}] done in {measurements[name]['took_s']:.1f}s")
        gc.collect()

    meta["finished_at"] = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    meta["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    json_path = out / f"{stem}.json"
    previous = json.loads(json_path.read_text()) if json_path.exists() and args.only else None
    results = merge(previous, {"meta": meta, "measurements": measurements})
    results["targets"] = evaluate_targets(results)
    write_json(results, json_path)
    report = markdown(results)
    (out / f"{stem}.md").write_text(report)
    if args.publish:
        Path(args.publish).write_text(keep_section(Path(args.publish), report))  # and bench.serving's
    if not args.keep:
        fresh_dir(scratch).rmdir()
    log(f"bench: wrote {json_path} and {out / (stem + '.md')}" + (f" and {args.publish}" if args.publish else ""))
    for t in results["targets"]:
        log(f"  {'MET    ' if t['met'] else 'NOT MET' if t['met'] is False else 'n/a    '} {t['target']}: {t['value']}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
