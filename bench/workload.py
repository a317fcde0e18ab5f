"""The benchmark workload: demo landing files at a fraction of the national size.

National target for one fiscal year: 20 M queue events, 10 M web sessions,
2 M 3-1-1 requests, 500 k survey responses, 1 M ledger entries.

The demo generator's own mix is not the national one (at size 1, FY2025 holds 38.3 k
queue events, 67.5 k web sessions, 11.4 k requests, 5.9 k responses and 224 ledger
entries). So the `national` mix gives `generate_demo` one size factor per entity
(`sizes`), chosen from the FY2025 counts at size 1 so each entity hits its national count:

    queue_events 522, web_sessions 148, service_requests 175, survey_responses 84.4,
    ledger_entries 4464 (the planted cost lines booked as that many entries each)

The `demo` mix uses one size for everything (`generate_demo`'s own mix, size 522 =
national queue volume; the ledger then books each cost line as 522 entries).

Landing files are generated once per (mix, fraction, seed) and fiscal year and cached
under the output folder; generation is never timed.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq

# Rows per fiscal year at national scale (the workload bench/README.md describes).
NATIONAL_ROWS = {
    "queue_events": 20_000_000,
    "web_sessions": 10_000_000,
    "service_requests": 2_000_000,
    "survey_responses": 500_000,
    "ledger_entries": 1_000_000,
}
# Good rows of FY2025 at generator size 1 (seed 20240401): the scale of each entity.
ROWS_AT_SIZE_1 = {
    "queue_events": 38_304,
    "web_sessions": 67_467,
    "service_requests": 11_433,
    "survey_responses": 5_921,
    "ledger_entries": 224,  # one entry per planted cost line
}
ENTITIES = ("services", "ledger_entries", "queue_events", "web_sessions", "survey_responses", "service_requests")
ROW_ENTITIES = ("queue_events", "web_sessions", "survey_responses", "service_requests")
SEED = 20240401
TARGET_YEAR = 2025


@dataclass(frozen=True)
class Workload:
    fraction: float  # of the national workload (1.0 = national, 0.1 = 10 %)
    mix: str  # "national" (per-entity sizes) or "demo" (the generator's one size)

    def generator_size(self, entity: str) -> float:
        """Generator size factor for one entity."""
        if self.mix == "demo":
            return NATIONAL_ROWS["queue_events"] / ROWS_AT_SIZE_1["queue_events"] * self.fraction
        if entity in ROWS_AT_SIZE_1:
            return NATIONAL_ROWS[entity] / ROWS_AT_SIZE_1[entity] * self.fraction
        return 1.0  # the service catalogue does not scale

    @property
    def label(self) -> str:
        pct = self.fraction * 100
        text = f"{pct:g} %" if pct >= 0.1 else f"{pct:.3g} %"
        return f"{text} of national ({self.mix} mix)"

    def key(self) -> str:
        return f"{self.mix}-{self.fraction:g}-seed{SEED}"


def _write_years(workload: Workload, landing: Path, years: tuple[int, ...]) -> None:
    from ingestion.demo import generate_demo

    if workload.mix == "demo":
        generate_demo(landing, years=years, size=workload.generator_size("queue_events"), seed=SEED)
        return
    sizes = {e: workload.generator_size(e) for e in (*ROW_ENTITIES, "ledger_entries")}
    generate_demo(landing, years=years, size=1.0, seed=SEED, sizes=sizes)


def ensure_landing(workload: Workload, root: Path, years) -> tuple[Path, float]:
    """Landing folder of the workload with `years` in it (missing years are generated).

    Returns (folder, seconds spent generating). A year has the same content whatever
    other years are generated with it (the generator is year-stable).
    """
    landing = root / workload.key()
    missing = tuple(y for y in sorted(set(years)) if not (landing / f"_bench_fy{y}.json").exists())
    if not missing:
        return landing, 0.0
    landing.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    _write_years(workload, landing, missing)
    took = time.perf_counter() - t0
    for y in missing:
        (landing / f"_bench_fy{y}.json").write_text(json.dumps({"workload": workload.label, "seconds": took}))
    return landing, took


def landing_rows(landing: Path, year: int) -> dict[str, dict]:
    """Rows and bytes of the landing files of one year, per entity (rows as delivered)."""
    from ingestion.landing import landing_files

    out: dict[str, dict] = {}
    for entity in ENTITIES:
        files = landing_files(landing, entity, year)
        rows = 0
        for f in files:
            if f.suffix == ".parquet":
                rows += pq.ParquetFile(f).metadata.num_rows
            else:
                with open(f, "rb") as fh:
                    rows += sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 24), b""))
                if f.suffix == ".csv":
                    rows -= 1  # header
        out[entity] = {
            "files": len(files),
            "rows": rows,
            "bytes": sum(f.stat().st_size for f in files),
            "format": files[0].suffix.lstrip(".") if files else None,
        }
    return out
