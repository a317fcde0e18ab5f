"""Scratch state for benchmark runs, and what the results record about the machine.

Every measurement runs against a CIVIC_HOME of its own under the output folder (never the
user's `.civic`), on the embedded profile (SQLite catalog, local warehouse, DuckDB file);
the landing files are shared through CIVIC_LANDING. dbt, run directly by the bench, gets
its own target and log folders so it never touches `dbt_project/target` of the checkout.
"""

from __future__ import annotations

import os
import platform
import secrets
import shutil
import sys
import uuid
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parent.parent
DBT_DIR = REPO / "dbt_project"
# Variables that would point a run at somebody else's state.
_CLEARED = (
    "CIVIC_PROFILE",
    "CIVIC_CATALOG_URI",
    "CIVIC_WAREHOUSE",
    "CIVIC_DUCKDB",
    "CIVIC_LANDING",
    "DAGSTER_HOME",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
)
PACKAGES = (
    "civic-lakehouse",
    "dagster",
    "dagster-dbt",
    "dbt-core",
    "dbt-duckdb",
    "duckdb",
    "dlt",
    "pyiceberg",
    "pyarrow",
    "polars",
    "pandera",
    "sqlglot",
    "psutil",
)


_RUN_KEY = secrets.token_hex(32)


def fresh_dir(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def civic_env(home: Path, landing: Path) -> dict[str, str]:
    """The environment of a run on `home` (for subprocesses), built from this one."""
    env = {k: v for k, v in os.environ.items() if k not in _CLEARED}
    env.update(
        CIVIC_HOME=str(home),
        CIVIC_LANDING=str(landing),
        DAGSTER_HOME=str(home / "dagster"),
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
        PYTHONUNBUFFERED="1",
    )
    # the demo's survey respondents are personal data: a run without a key of its own
    # pseudonymises them under one random key
    env.setdefault("CIVIC_PSEUDONYM_KEY", _RUN_KEY)
    return env


def activate(home: Path, landing: Path) -> dict[str, str]:
    """Point this process at `home` (for in-process measurements); returns the environment."""
    env = civic_env(home, landing)
    for k in _CLEARED:
        os.environ.pop(k, None)
    os.environ.update(env)
    (home / "dagster").mkdir(parents=True, exist_ok=True)
    return env


def dbt_command(args: list[str], scratch: Path) -> list[str]:
    """`dbt <args>` on the project, with target and logs in `scratch`."""
    dbt = str(Path(sys.executable).with_name("dbt"))
    return [
        dbt,
        *args,
        "--project-dir",
        str(DBT_DIR),
        "--profiles-dir",
        str(DBT_DIR),
        "--target-path",
        str(scratch / "dbt_target"),
        "--log-path",
        str(scratch / "dbt_logs"),
    ]


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in PACKAGES:
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "absent"
    return out


def code_state() -> dict:
    """The commit the figures were measured on, and whether production code had local changes."""
    import subprocess

    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    changed = [
        line[3:]
        for line in git("status", "--porcelain").splitlines()
        if line[3:].split("/", 1)[0] in ("ingestion", "contracts", "lake", "orchestration", "dbt_project")
    ]
    return {"commit": git("rev-parse", "--short", "HEAD") or "unknown", "uncommitted_production_files": changed}


def machine() -> dict:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    vm = psutil.virtual_memory()
    disk = shutil.disk_usage(REPO)
    return {
        "platform": platform.platform(),
        "cpu": cpu,
        "logical_cores": psutil.cpu_count(logical=True),
        "physical_cores": psutil.cpu_count(logical=False),
        "memory_gib": round(vm.total / 2**30, 1),
        "memory_available_gib": round(vm.available / 2**30, 1),
        "disk_free_gib": round(disk.free / 2**30, 1),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


# --- the production profile on this machine's services ----------------------------------
# PostgreSQL on 127.0.0.1:5432 (user postgres, trust) for the Iceberg catalog and Dagster,
# the warehouse on a SeaweedFS S3 gateway: the harnesses (bench/s3_faults.py) and the
# production tests (tests/test_production.py) build their lakes with these.
PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"


def pg_admin(sql: str) -> None:
    """One statement as PostgreSQL's administrator (autocommit: CREATE/DROP DATABASE)."""
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as con:
        con.execute(sql)


def create_databases(prefix: str) -> dict[str, str]:
    """A fresh catalog and Dagster database, named `<prefix>_<kind>_<random>`."""
    names = {kind: f"{prefix}_{kind}_{uuid.uuid4().hex[:10]}" for kind in ("catalog", "dagster")}
    for name in names.values():
        pg_admin(f'create database "{name}"')
    return names


def drop_databases(names: dict[str, str]) -> None:
    for name in names.values():
        pg_admin(f"select pg_terminate_backend(pid) from pg_stat_activity where datname = '{name}'")
        pg_admin(f'drop database if exists "{name}"')


def production_env(
    home: Path, databases: dict[str, str], endpoint: str, access_key: str, secret_key: str, warehouse: str
) -> dict[str, str]:
    """The variables of the production profile on `home` (catalog and Dagster in
    `databases`, the warehouse `s3://...` on the S3 gateway at `endpoint`)."""
    return {
        "CIVIC_PROFILE": "production",
        "CIVIC_HOME": str(home),
        "CIVIC_CATALOG_URI": f"postgresql+psycopg://postgres@127.0.0.1:5432/{databases['catalog']}",
        "CIVIC_WAREHOUSE": warehouse,
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": access_key,
        "AWS_SECRET_ACCESS_KEY": secret_key,
        "AWS_REGION": "us-east-1",
        "DAGSTER_PG_HOST": "127.0.0.1",
        "DAGSTER_PG_PORT": "5432",
        "DAGSTER_PG_USERNAME": "postgres",
        "DAGSTER_PG_PASSWORD": "",
        "DAGSTER_PG_DB": databases["dagster"],
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
