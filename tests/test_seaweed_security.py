"""The local SeaweedFS server answers only through its S3 gateway with the lake's keys
(issue 18 item 21): the filer's HTTP port and the volume servers refuse a read, a write
and a delete without a JWT signed with the server's own keys; every port it listens on
was picked for it (no fixed 9101); its state is owner-only. Real `weed mini` over HTTP."""

from __future__ import annotations

import json
import stat
import urllib.error
import urllib.request

import psutil
import pytest

from orchestration.services import seaweed

ACCESS_KEY = "civic-test"
SECRET_KEY = "civic-test-secret-key"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = seaweed.start(tmp_path_factory.mktemp("weed") / "seaweed", ACCESS_KEY, SECRET_KEY)
    try:
        seaweed.ensure_bucket(srv.client(), "lake")
        srv.client().put_object(Bucket="lake", Key="raw/secret.parquet", Body=b"personal rows")
        yield srv
    finally:
        srv.stop()


def _status(method: str, url: str, body: bytes | None = None) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=body, method=method), timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as err:
        return err.code


def test_the_s3_gateway_works_with_the_keys(server):
    assert server.client().get_object(Bucket="lake", Key="raw/secret.parquet")["Body"].read() == b"personal rows"


@pytest.mark.parametrize(
    "method, path, body",
    [
        ("GET", "/buckets/lake/raw/secret.parquet", None),
        ("PUT", "/buckets/lake/raw/planted.parquet", b"forged"),
        ("POST", "/buckets/lake/raw/planted.parquet", b"forged"),
        ("DELETE", "/buckets/lake/raw/secret.parquet", None),
        ("GET", "/buckets/lake/?pretty=y", None),
    ],
)
def test_the_filer_port_refuses_without_a_jwt(server, method, path, body):
    assert _status(method, f"http://127.0.0.1:{server.ports['filer.port']}{path}", body) == 401
    assert server.client().get_object(Bucket="lake", Key="raw/secret.parquet")["Body"].read() == b"personal rows"
    keys = [o["Key"] for o in server.client().list_objects_v2(Bucket="lake").get("Contents", [])]
    assert "raw/planted.parquet" not in keys


def test_the_volume_servers_refuse_without_a_jwt(server):
    master = server.ports["master.port"]
    with urllib.request.urlopen(f"http://127.0.0.1:{master}/dir/assign", timeout=10) as r:
        assigned = json.loads(r.read())
    assert "auth" not in assigned  # the master hands out no write token
    volume = f"http://{assigned['url']}/{assigned['fid']}"
    assert _status("PUT", volume, b"forged") == 401
    assert _status("GET", volume) == 401


def test_every_port_is_picked_and_the_state_is_owner_only(server):
    procs = [psutil.Process(server.pid), *psutil.Process(server.pid).children(recursive=True)]
    listening = {c.laddr.port for p in procs for c in p.net_connections("inet") if c.status == psutil.CONN_LISTEN}
    assert listening
    assert listening <= {server.s3_port, *server.ports.values()}, listening
    assert 9101 not in listening
    addresses = {c.laddr.ip for p in procs for c in p.net_connections("inet") if c.status == psutil.CONN_LISTEN}
    assert addresses == {"127.0.0.1"}
    # weed writes some volume files 0644 whatever the umask: the directory closes them
    assert stat.S_IMODE(server.data_dir.stat().st_mode) == 0o700
    for key_file in ("security.toml", "s3.json"):
        assert stat.S_IMODE((server.data_dir / key_file).stat().st_mode) == 0o600
