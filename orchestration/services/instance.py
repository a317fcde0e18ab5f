"""The Dagster instance of a CIVIC_HOME: DAGSTER_HOME ($CIVIC_HOME/dagster by default) with
the repo's dagster.yaml (embedded profile) or dagster.production.yaml (production)."""

from __future__ import annotations

import os
from pathlib import Path

from lake.settings import Settings, secure_home

REPO = Path(__file__).resolve().parents[2]
INSTANCE_FILES = {"embedded": REPO / "dagster.yaml", "production": REPO / "dagster.production.yaml"}

# The embedded instance's event log: Dagster's own SQLite files (history/runs, where its
# default storage keeps them), written through connections kept open. Its folder must be
# named in the file, so it is added to the copy, not to the repo's dagster.yaml.
POOLED_EVENT_LOG = """
event_log_storage:
  module: orchestration.services.event_log
  class: PooledSqliteEventLogStorage
  config:
    base_dir: {base_dir}
"""


def instance_yaml(profile: str, home: Path) -> str:
    """The dagster.yaml of the instance in `home` for a settings profile."""
    text = INSTANCE_FILES[profile].read_text()
    if profile == "embedded":
        text += POOLED_EVENT_LOG.format(base_dir=home.resolve() / "history" / "runs")
    return text


def prepare_dagster_home(settings: Settings) -> Path:
    secure_home(settings.home)
    home = Path(os.environ.get("DAGSTER_HOME") or settings.home / "dagster")
    home.mkdir(parents=True, exist_ok=True)
    text = instance_yaml(settings.profile, home)
    target = home / "dagster.yaml"
    if not target.exists() or target.read_text() != text:
        target.write_text(text)
    os.environ["DAGSTER_HOME"] = str(home)
    return home
