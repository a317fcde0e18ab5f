"""Light commands start light: `civic --help` and `civic query` load neither Dagster nor
pyiceberg (nor dlt or polars), which took about 4 s of a 21 ms query."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("dagster", "dagster_dbt", "pyiceberg", "dlt", "polars")

PROBE = """
import contextlib, io, json, sys
from orchestration.cli import main
out = io.StringIO()
with contextlib.redirect_stdout(out):
    try:
        code = main(sys.argv[1:])
    except SystemExit as exit:
        code = exit.code
heavy = sorted({m.split(".")[0] for m in sys.modules} & set(json.loads(%r)))
print(json.dumps({"code": code, "heavy": heavy, "out": out.getvalue()}))
"""


def _run(home: Path, *args: str) -> dict:
    env = {**os.environ, "CIVIC_HOME": str(home), "DAGSTER_HOME": str(home / "dagster")}
    done = subprocess.run(
        [sys.executable, "-c", PROBE % json.dumps(HEAVY), *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_help_and_query_import_no_heavy_module(tmp_path):
    with duckdb.connect(str(tmp_path / "marts_only.duckdb")) as con:
        con.execute("create schema marts")
        con.execute("create table marts.kpis as select 'SVC-001' as service_id, 42 as transactions")
    helped = _run(tmp_path, "--help")
    assert helped["code"] == 0 and "query" in helped["out"]
    assert helped["heavy"] == []
    queried = _run(tmp_path, "query", "select service_id, transactions from marts.kpis", "--format", "csv")
    assert queried["code"] == 0
    assert queried["out"].split() == ["service_id,transactions", "SVC-001,42"]
    assert queried["heavy"] == []
