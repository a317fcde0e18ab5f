"""`civic storage up|down|status`: the local S3-compatible server of a CIVIC_HOME (SeaweedFS).

Data persists in $CIVIC_HOME/seaweed across restarts. Credentials come only from
AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY; the server enforces them.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from lake.locks import pid_alive
from lake.settings import Settings
from orchestration.services import seaweed

DEFAULT_S3_PORT = 8333
DEFAULT_BUCKET = "civic-lake"


@dataclass
class StorageState:
    running: bool
    pid: int | None
    endpoint: str | None
    data_dir: Path


def _data_dir(settings: Settings) -> Path:
    return settings.home / "seaweed"


def _bucket(settings: Settings) -> str:
    if settings.warehouse_is_s3:
        return settings.warehouse.removeprefix("s3://").split("/", 1)[0]
    return DEFAULT_BUCKET


def status(settings: Settings) -> StorageState:
    state_file = _data_dir(settings) / "server.json"
    if state_file.exists():
        state = json.loads(state_file.read_text())
        if pid_alive(state["pid"]):
            return StorageState(True, state["pid"], f"http://127.0.0.1:{state['s3_port']}", _data_dir(settings))
    return StorageState(False, None, None, _data_dir(settings))


def _credentials() -> tuple[str, str]:
    key, secret = os.environ.get("AWS_ACCESS_KEY_ID"), os.environ.get("AWS_SECRET_ACCESS_KEY")
    if not key or not secret:
        raise RuntimeError("set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY: the local S3 server enforces them")
    return key, secret


def up(settings: Settings, port: int | None = None) -> StorageState:
    current = status(settings)
    if current.running:
        return current
    key, secret = _credentials()
    port = port or int(os.environ.get("CIVIC_S3_PORT", DEFAULT_S3_PORT))
    server = seaweed.start(_data_dir(settings), key, secret, s3_port=port)
    seaweed.ensure_bucket(server.client(), _bucket(settings))
    return status(settings)


def down(settings: Settings) -> bool:
    current = status(settings)
    if not current.running:
        return False
    seaweed.stop_pid(current.pid)
    state_file = _data_dir(settings) / "server.json"
    if state_file.exists():
        state_file.unlink()
    return True


def exports(settings: Settings, state: StorageState) -> str:
    return "\n".join(
        [
            f"export AWS_ENDPOINT_URL={state.endpoint}",
            f"export CIVIC_WAREHOUSE=s3://{_bucket(settings)}/warehouse",
            "export AWS_REGION=${AWS_REGION:-us-east-1}",
        ]
    )
