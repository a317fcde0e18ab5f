"""The benchmark harness (bench/) runs end to end at a tiny size and writes sane results.

Not a timed test: it only proves every measurement runs, measures its floor and computes
its ratio. The figures themselves come from `make bench` (see bench/README.md). Most of
its time is the fixed cost of the refreshes and dbt builds it runs, whatever the size.
"""

import json
import math

import pytest

from bench.__main__ import main

SIZE = "0.0002"  # of the national workload: ~4 k queue events, ~2 k web sessions


def _positive(x) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x) and x > 0


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    code = main(
        [
            "--size",
            SIZE,
            "--reps",
            "1",
            "--skip-peer",
            "--bi-samples",
            "3",
            "--cli-samples",
            "1",
            "--out",
            str(out),
            "--publish",
            str(out / "RESULTS.md"),
        ]
    )
    assert code == 0, (out / f"results-national-{float(SIZE):g}.md").read_text()
    data = json.loads((out / f"results-national-{float(SIZE):g}.json").read_text())
    return out, data


@pytest.mark.slow
def test_results_files_are_written(results):
    out, data = results
    report = (out / "RESULTS.md").read_text()
    assert "Benchmark results" in report and "uv run python -m bench" in report
    assert (out / f"results-national-{float(SIZE):g}.md").read_text() == report
    meta = data["meta"]
    assert meta["workload"]["fraction"] == float(SIZE)
    assert meta["machine"]["logical_cores"] >= 1 and meta["machine"]["memory_gib"] > 0
    assert meta["versions"]["duckdb"] != "absent" and meta["versions"]["dbt-core"] != "absent"
    assert meta["landing"]["queue_events"]["rows"] > 1000
    assert not (out / "scratch-national-0.0002-seed20240401").exists()


@pytest.mark.slow
def test_every_measurement_has_its_floor_and_ratio(results):
    _, data = results
    m = data["measurements"]
    assert set(m) == {"ingestion", "marts", "e2e", "incremental", "queries"}
    assert not [name for name, v in m.items() if "error" in v]

    total = m["ingestion"]["entities"]["total"]
    assert total["rows"] == sum(r["rows"] for r in data["meta"]["landing"].values())
    assert total["rows"] == total["loaded"] + total["quarantined"] == total["floor_rows"]
    assert _positive(total["rows_per_s"]["median"]) and _positive(total["floor_rows_per_s"]["median"])
    assert _positive(total["ratio_to_floor"])
    assert 0 < total["contracts_share"]["median"] < 1

    marts = m["marts"]
    assert _positive(marts["dbt_build_s"]["median"]) and _positive(marts["dbt_fixed_cost_s"]["median"])
    assert _positive(marts["floor_query_s"]["median"]) and _positive(marts["ratio_to_floor"])
    assert marts["floor_matches_mart"]["differences"] == 0
    assert marts["floor_matches_mart"]["floor_rows"] == marts["floor_matches_mart"]["mart_rows"] > 0

    e2e = m["e2e"]
    assert _positive(e2e["wall_s"]["median"]) and _positive(e2e["floor_s"]) and _positive(e2e["ratio_to_floor"])
    assert 0.05 < e2e["peak_rss_gib"]["max"] < 64

    assert _positive(m["incremental"]["ratio_5y_to_1y"])
    assert set(m["incremental"]["cases"]) == {"1y", "5y"}

    q = m["queries"]
    assert not q["errors"]
    assert len(q["in_process"]) == 5 and _positive(q["in_process_worst_p95_ms"])
    assert _positive(q["cli_all"]["p95_ms"])


@pytest.mark.slow
def test_targets_are_judged(results):
    _, data = results
    targets = {t["target"]: t for t in data["targets"]}
    assert len(targets) == 8
    judged = [t for t in targets.values() if t["met"] is not None]
    assert len(judged) == 7  # all but the peer, skipped here
    assert targets["Faster than the PySpark peer"]["met"] is None


def test_contracts_profile_splits_validate_into_its_steps(tmp_path):
    from bench.contracts_profile import profile_entity
    from bench.workload import Workload, ensure_landing

    landing, _ = ensure_landing(Workload(float(SIZE), "national"), tmp_path / "landing", [2025])
    r = profile_entity(landing, "queue_events", 2025)
    assert r["rows"] > 1000 and r["batches"] >= 1
    parts = r["parts_s"]
    assert _positive(parts["pandera"]) and _positive(parts["coerce"]) and _positive(parts["seen_ids"])
    assert parts["fiscal_year_and_rejects"] >= 0  # the timed steps lie inside validate, none counted twice
    reference = profile_entity(landing, "queue_events", 2025, one_pass=False)
    assert reference["lazy_collects_per_batch"] >= 5  # one or more per check pandera runs
    assert r["lazy_collects_per_batch"] < reference["lazy_collects_per_batch"]  # the one pass
