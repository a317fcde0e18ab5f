"""The dbt project as Dagster sees it: where it is, and a manifest to build assets from."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from dagster_dbt import DbtProject

from lake.locks import exclusive

DBT_DIR = Path(__file__).resolve().parents[3] / "dbt_project"

civic_dbt = DbtProject(project_dir=DBT_DIR, profiles_dir=DBT_DIR)

# The dbt of this environment, found even when the virtualenv is not on PATH
# (e.g. `.venv/bin/civic refresh` from cron).
DBT_EXECUTABLE = str(Path(sys.executable).with_name("dbt"))


def _newest_project_file() -> float:
    paths = [DBT_DIR / "dbt_project.yml", DBT_DIR / "profiles.yml"]
    for folder in ("models", "macros", "seeds", "tests", "snapshots", "analyses"):
        if (DBT_DIR / folder).is_dir():
            paths.extend(p for p in (DBT_DIR / folder).rglob("*") if p.is_file())
    return max((p.stat().st_mtime for p in paths if p.exists()), default=0.0)


def ensure_manifest() -> Path:
    """Parse the project when there is no manifest yet (a fresh checkout) or when a model,
    macro, seed or test changed since the last parse (an analyst added a mart).

    Processes starting at once (two refreshes, parallel test workers) parse one at a time,
    and each parse writes to a folder of its own whose manifest is then moved into place:
    a reader never loads a manifest half written by another process."""
    manifest = civic_dbt.manifest_path
    if manifest.exists() and manifest.stat().st_mtime >= _newest_project_file():
        return manifest
    manifest.parent.mkdir(parents=True, exist_ok=True)
    with exclusive(manifest.parent / ".parse.lock", "the dbt parse"):
        if manifest.exists() and manifest.stat().st_mtime >= _newest_project_file():
            return manifest  # parsed by the process that held the lock before us
        scratch = Path(tempfile.mkdtemp(prefix=".parse-", dir=manifest.parent))
        try:
            env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DBT_TARGET_PATH": str(scratch)}
            subprocess.run(
                [DBT_EXECUTABLE, "parse", "--quiet", "--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR)],
                check=True,
                cwd=DBT_DIR,
                env=env,
            )
            os.replace(scratch / "manifest.json", manifest)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    return manifest
