"""What the measurements of one bench run share: the workload, folders, and lakes built so far.

A measurement that needs a lake someone else would have built (the marts need FY2025 in
raw, the BI queries need marts) asks for it here; it is built untimed when the
measurement that builds it was not selected.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench.env import fresh_dir
from bench.workload import Workload, ensure_landing


@dataclass
class Context:
    workload: Workload
    year: int
    reps: int
    scratch: Path
    landing_root: Path
    landing: Path
    keep: bool = False
    bi_samples: int = 30
    cli_samples: int = 3
    log: Callable[[str], None] = print
    lake_home: Path | None = None  # raw tables of `year` loaded
    marts_home: Path | None = None  # ... and the marts of `year` built
    history_home: Path | None = None  # five history years + `year` (incremental)
    ingest_floor_s: float | None = None
    mart_floor_s: float | None = None
    generated_s: dict[int, float] = field(default_factory=dict)

    def ensure_landing_years(self, years) -> None:
        _, took = ensure_landing(self.workload, self.landing_root, years)
        if took:
            self.log(f"    generated landing files for FY{', FY'.join(map(str, years))} in {took:.1f}s (untimed)")

    def ensure_lake(self) -> Path:
        if self.lake_home is None:
            from bench.ingest import ingest_all

            self.log(f"    loading FY{self.year} into a lake (untimed)")
            home = fresh_dir(self.scratch / "lake")
            ingest_all(home, self.landing, self.year)
            self.lake_home = home
        return self.lake_home

    def ensure_marts(self) -> Path:
        if self.marts_home is None:
            from bench.marts import dbt_build

            home = self.ensure_lake()
            self.log(f"    building the marts of FY{self.year} (untimed)")
            dbt_build(self, home, [self.year])
            self.marts_home = home
        return self.marts_home

    def floors(self) -> tuple[float, float]:
        """(ingestion floor, mart floor) seconds of this run, measured now if not yet."""
        if self.ingest_floor_s is None:
            import time

            from bench.ingest import floor_all

            t0 = time.perf_counter()
            floor_all(self.scratch / "ingest-floor", self.landing, self.year)
            self.ingest_floor_s = time.perf_counter() - t0
        if self.mart_floor_s is None:
            from bench.env import activate
            from bench.marts import floor_query
            from lake.catalog import open_catalog
            from lake.settings import load_settings

            activate(self.ensure_lake(), self.landing)
            self.mart_floor_s = min(floor_query(open_catalog(load_settings()), self.year)[0] for _ in range(3))
        return self.ingest_floor_s, self.mart_floor_s
