"""The Dagster instance of a CIVIC_HOME: DAGSTER_HOME ($CIVIC_HOME/dagster by default) with
the repo's dagster.yaml (embedded profile) or dagster.production.yaml (production)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from lake.settings import Settings, secure_home

REPO = Path(__file__).resolve().parents[2]
INSTANCE_FILES = {"embedded": REPO / "dagster.yaml", "production": REPO / "dagster.production.yaml"}


def prepare_dagster_home(settings: Settings) -> Path:
    secure_home(settings.home)
    home = Path(os.environ.get("DAGSTER_HOME") or settings.home / "dagster")
    home.mkdir(parents=True, exist_ok=True)
    source = INSTANCE_FILES[settings.profile]
    target = home / "dagster.yaml"
    if not target.exists() or target.read_bytes() != source.read_bytes():
        shutil.copyfile(source, target)
    os.environ["DAGSTER_HOME"] = str(home)
    return home
