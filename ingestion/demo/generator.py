"""generate_demo: write a landing folder with planted truths and demo_truths.json."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from ingestion.demo import (
    queue_events,
    service_requests,
    survey_responses,
    web_sessions,
)
from ingestion.demo.ledger import ledger_frame
from ingestion.demo.parameters import build_plan
from ingestion.demo.pipeline import write_entity_year
from ingestion.demo.services import services_frame
from ingestion.demo.truths import build_truths

ROW_ENTITIES = (queue_events.SPEC, web_sessions.SPEC, survey_responses.SPEC, service_requests.SPEC)
TRUTHS_FILE = "demo_truths.json"


def _clear(folder: Path, pattern: str) -> None:
    """Remove files an earlier run left (e.g. more Parquet parts at a larger size)."""
    for old in folder.glob(pattern):
        old.unlink()


def _bad_row_entries(entity: str, year: int, bad: pl.DataFrame) -> list[dict]:
    """One entry per bad row; missing_id rows (no id to name) as one entry with a count.
    `row`/`rows`: 0-based positions in file order, so a reader can tell the late copy of a
    duplicated id from its original."""
    entries = [
        {"entity": entity, "fiscal_year": year, "kind": kind, "id": rid, "count": 1, "row": row}
        for kind, rid, row in bad.filter(pl.col("kind") != "missing_id").select("kind", "id", "row").iter_rows()
    ]
    missing = bad.filter(pl.col("kind") == "missing_id")["row"].to_list()
    if missing:
        entries.append(
            {
                "entity": entity,
                "fiscal_year": year,
                "kind": "missing_id",
                "id": None,
                "count": len(missing),
                "rows": missing,
            }
        )
    return entries


SIZED_ENTITIES = (*(spec.name for spec in ROW_ENTITIES), "ledger_entries")


def generate_demo(
    landing_dir: str | Path,
    years=range(2021, 2026),
    size: float = 1.0,
    seed: int = 20240401,
    sizes: dict[str, float] | None = None,
) -> dict:
    """Write the demo landing files for `years` and return the truths (also written to
    <landing_dir>/demo_truths.json). Same seed and sizes give byte-identical files.

    `sizes` gives an entity its own size factor instead of `size` (a benchmark mix: 20 M
    queue events beside 500 k survey responses). A row entity then has its own volumes;
    the ledger keeps the amounts of `size` and only books them as more entries
    (ledger.entries_per_line). The planted measures are those of `size`, so they describe
    exactly the entities generated at `size`; rows_written and bad_rows are exact for all.
    """
    landing = Path(landing_dir)
    sizes = dict(sizes or {})
    unknown = set(sizes) - set(SIZED_ENTITIES)
    if unknown:
        raise ValueError(
            f"no size factor for {', '.join(sorted(unknown))}: sized entities are {', '.join(SIZED_ENTITIES)}"
        )
    plan = build_plan(seed, size, years)
    plans = {name: build_plan(seed, factor, years) for name, factor in sizes.items() if name != "ledger_entries"}
    written: dict[str, dict[int, tuple[int, int]]] = {}
    files: dict[str, dict[str, list[str]]] = {}
    bad_rows: list[dict] = []

    def record(entity: str, year: int, good: int, bad: int, names: list[str]) -> None:
        written.setdefault(entity, {})[year] = (good, bad)
        files.setdefault(entity, {})[str(year)] = [f"{entity}/fy={year}/{n}" for n in names]

    for year in plan.years:
        folder = landing / "services" / f"fy={year}"
        folder.mkdir(parents=True, exist_ok=True)
        services = services_frame(plan)
        services.write_csv(folder / "services.csv")
        record("services", year, services.height, 0, ["services.csv"])

        folder = landing / "ledger_entries" / f"fy={year}"
        folder.mkdir(parents=True, exist_ok=True)
        ledger, good, bad = ledger_frame(plan, year, sizes.get("ledger_entries"))
        ledger.write_csv(folder / "ledger.csv")
        record("ledger_entries", year, good, bad, ["ledger.csv"])
        missing = ledger.with_row_index("row").filter(pl.col("entry_id").is_null())["row"].to_list()
        bad_rows.append(
            {
                "entity": "ledger_entries",
                "fiscal_year": year,
                "kind": "missing_id",
                "id": None,
                "count": bad,
                "rows": missing,
            }
        )

        for spec in ROW_ENTITIES:
            _clear(landing / spec.name / f"fy={year}", spec.file_name.replace("{part:04d}", "*"))
            report = write_entity_year(spec, plans.get(spec.name, plan), year, landing)
            record(spec.name, year, report["good"], report["bad"], report["files"])
            bad_rows.extend(_bad_row_entries(spec.name, year, report["bad_rows"]))

    truths = build_truths(plan, written, bad_rows, files)
    if sizes:
        truths["generator"]["sizes"] = sizes
    (landing / TRUTHS_FILE).write_text(json.dumps(truths, indent=2) + "\n")
    return truths
