"""The Dagster instance of a CIVIC_HOME: DAGSTER_HOME=$CIVIC_HOME/dagster with the repo's dagster.yaml."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from lake.settings import Settings

REPO_DAGSTER_YAML = Path(__file__).resolve().parent.parent / "dagster.yaml"


def prepare_dagster_home(settings: Settings) -> Path:
    home = Path(os.environ.get("DAGSTER_HOME") or settings.home / "dagster")
    home.mkdir(parents=True, exist_ok=True)
    target = home / "dagster.yaml"
    if not target.exists() or target.read_bytes() != REPO_DAGSTER_YAML.read_bytes():
        shutil.copyfile(REPO_DAGSTER_YAML, target)
    os.environ["DAGSTER_HOME"] = str(home)
    return home
