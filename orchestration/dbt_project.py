"""The dbt project as Dagster sees it: where it is, and a manifest to build assets from."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from dagster_dbt import DbtProject

DBT_DIR = Path(__file__).resolve().parent.parent / "dbt_project"

civic_dbt = DbtProject(project_dir=DBT_DIR, profiles_dir=DBT_DIR)


def ensure_manifest() -> Path:
    """Parse the project once if no manifest exists yet (a fresh checkout has none)."""
    manifest = civic_dbt.manifest_path
    if not manifest.exists():
        dbt = Path(sys.executable).with_name("dbt")
        env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
        subprocess.run(
            [str(dbt), "parse", "--quiet", "--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR)],
            check=True,
            cwd=DBT_DIR,
            env=env,
        )
    return manifest
