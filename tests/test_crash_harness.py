"""The crash test (bench/crash_test.py), short: two kills (in the dbt build and in a raw
commit) of a one-year refresh, each re-run and compared with a clean reference. The full
run (30 kills over every stage) is `python -m bench.crash_test`; its figures are in
bench/CRASH_RESULTS.md."""

import json

import pytest

from bench.crash_test import main


@pytest.mark.slow
def test_a_killed_refresh_resumes_to_the_reference_by_itself(tmp_path):
    out = tmp_path / "crash.json"
    args = ["--trials", "2", "--stages", "dbt,commit", "--years", "2025", "--size", "0.02"]
    code = main([*args, "--workdir", str(tmp_path / "work"), "--json", str(out)])
    results = json.loads(out.read_text())
    assert code == 0, results
    assert results["kills"] >= 1
    # every kill left a dead run (STARTED, its slot claimed) that the re-run cleaned up
    assert results["dead_runs_recovered"] == results["kills"]
    assert results["runs_left_in_flight"] == 0
    assert results["clean_resumes"] == results["trials"] == 2
    assert results["partial_rows"] == results["duplicated_rows"] == results["lost_rows"] == 0
    assert results["manual_repairs"] == 0 and results["ledger_mismatches"] == 0
    assert results["orphans_after_maintenance"] == 0 and results["same_data_after_maintenance"]
