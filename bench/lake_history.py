"""Micro-benchmark: does a bookkeeping commit cost the same whatever the history?
(Not a test, not part of `python -m bench`.)

Commits N loads the way a refresh does (the quarantine partition of an (entity, year)
replaced, then one `raw.loads` row appended) into a fresh embedded lake, and prints the
median commit time of each quarter of the history with the tables' snapshot and manifest
counts at its end, the shrink guard's read of one (table, year, source) against a read of
the whole ledger, then the time to read the whole ledger:

    uv run python -m bench.lake_history --loads 600
    uv run python -m bench.lake_history --loads 600 --retention-hours 0   # quarantine expiry at work
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from contracts.staged import QUARANTINE_ARROW
from lake import maintenance
from lake.catalog import open_catalog
from lake.load_ledger import LOADS_TABLE, LoadRecord, read_loads, record_load
from lake.quarantine import QUARANTINE_TABLE, replace_quarantine
from lake.settings import load_settings


def _counts(catalog, name: str) -> str:
    table = catalog.load_table(name)
    return f"{len(table.metadata.snapshots)} snapshots, {len(table.current_snapshot().manifests(table.io))} manifests"


def run(loads: int, home: Path, windows: int = 4) -> None:
    catalog = open_catalog(load_settings({"CIVIC_HOME": str(home)}))
    now = dt.datetime.now()
    window = max(1, loads // windows)
    quarantine_ms: list[float] = []
    ledger_ms: list[float] = []
    guard_ms: list[float] = []
    for i in range(loads):
        entity, year, load_id = f"entity{i % 12}", 2020 + (i // 12) % 5, f"load-{i:06d}"
        rejected = home / f"{load_id}.parquet"
        row = {
            "entity": entity,
            "fiscal_year": year,
            "load_id": load_id,
            "source": "landing",
            "source_file": "f.csv",
            "rule": "type",
            "column": "c",
            "message": "m",
            "row": "{}",
        }
        pq.write_table(pa.Table.from_pylist([row], schema=QUARANTINE_ARROW), rejected)
        t0 = time.perf_counter()
        replace_quarantine(catalog, entity, year, "landing", rejected, load_id, {"civic.load-id": load_id})
        t1 = time.perf_counter()
        record_load(
            catalog,
            LoadRecord(load_id, f"raw.{entity}", year, "landing", 10, 9, 1, None, None, 1, now, now, 0.0, "bench"),
        )
        t2 = time.perf_counter()
        # what the shrink guard reads before each commit: the entries of one (table, year, source)
        read_loads(catalog, table_names={f"raw.{entity}"}, fiscal_years={year}, sources={"landing"})
        quarantine_ms.append(1000 * (t1 - t0))
        ledger_ms.append(1000 * (t2 - t1))
        guard_ms.append(1000 * (time.perf_counter() - t2))
        if (i + 1) % window == 0 or i == loads - 1:
            start = i + 1 - (i % window) - 1
            t3 = time.perf_counter()
            read_loads(catalog)  # the whole ledger (what the guard read before)
            whole_ms = 1000 * (time.perf_counter() - t3)
            print(
                f"loads {start + 1:>5}-{i + 1:<5} median: quarantine commit "
                f"{statistics.median(quarantine_ms[start:]):6.0f} ms ({_counts(catalog, QUARANTINE_TABLE)}); "
                f"ledger append {statistics.median(ledger_ms[start:]):6.0f} ms ({_counts(catalog, LOADS_TABLE)}); "
                f"guard's read {statistics.median(guard_ms[start:]):6.0f} ms, whole ledger {whole_ms:6.0f} ms",
                flush=True,
            )
    t0 = time.perf_counter()
    rows = read_loads(catalog).num_rows
    print(f"read_loads: {rows} rows in {time.perf_counter() - t0:.2f} s")


def main() -> None:
    p = argparse.ArgumentParser(
        prog="python -m bench.lake_history", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--loads", type=int, default=600)
    p.add_argument("--retention-hours", type=float, help="override lake.maintenance.RETENTION (the quarantine's)")
    p.add_argument("--no-merge", action="store_true", help="leave the ledger's manifest merging off")
    args = p.parse_args()
    if args.retention_hours is not None:
        maintenance.RETENTION = dt.timedelta(hours=args.retention_hours)
    if args.no_merge:
        maintenance.MERGE_PROPERTIES = {}
    with tempfile.TemporaryDirectory(prefix="lake-history-") as home:
        run(args.loads, Path(home))


if __name__ == "__main__":
    main()
