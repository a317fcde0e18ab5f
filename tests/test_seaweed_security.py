"""The local SeaweedFS server answers only through its S3 gateway with the lake's keys
(issue 18 item 21): the master, filer and volume HTTP ports take only TLS clients with a
certificate of the CA made at the server's start (so the master's topology and
`/dir/assign` are closed too), and the filer and volume servers still refuse a read, a
write and a delete without a JWT signed with the server's own keys; every port it listens on
was picked for it (no fixed 9101); its state is owner-only. Real `weed mini` over HTTP."""

from __future__ import annotations

import json
import socket
import ssl
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


def _tls(server, certificate: bool) -> ssl.SSLContext:
    """A client that trusts the server's CA, presenting its certificate or none."""
    tls = server.data_dir / "tls"
    ctx = ssl.create_default_context(cafile=str(tls / "ca.crt"))
    if certificate:
        ctx.load_cert_chain(tls / "node.crt", tls / "node.key")
    return ctx


def _status(method: str, url: str, body: bytes | None = None, context: ssl.SSLContext | None = None) -> int | str:
    """The HTTP status, or `refused` when the TLS handshake fails (no client certificate)."""
    try:
        request = urllib.request.Request(url, data=body, method=method)
        with urllib.request.urlopen(request, timeout=10, context=context) as r:
            return r.status
    except urllib.error.HTTPError as err:
        return err.code
    except (ssl.SSLError, urllib.error.URLError, ConnectionError) as err:
        # the server ends the handshake (an alert, or EOF while a body is sent); never
        # this client failing to trust the server, which would prove nothing
        reason = err.reason if isinstance(err, urllib.error.URLError) else err
        assert isinstance(reason, (ssl.SSLError, ConnectionError)), err
        assert not isinstance(reason, ssl.SSLCertVerificationError), err
        return "refused"


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
def test_the_filer_port_refuses_without_a_certificate_and_without_a_jwt(server, method, path, body):
    filer = f"127.0.0.1:{server.ports['filer.port']}{path}"
    assert _status(method, f"http://{filer}", body) in (400, "refused")  # plain HTTP to a TLS port
    assert _status(method, f"https://{filer}", body, _tls(server, certificate=False)) == "refused"
    assert _status(method, f"https://{filer}", body, _tls(server, certificate=True)) == 401  # and no JWT
    assert server.client().get_object(Bucket="lake", Key="raw/secret.parquet")["Body"].read() == b"personal rows"
    keys = [o["Key"] for o in server.client().list_objects_v2(Bucket="lake").get("Contents", [])]
    assert "raw/planted.parquet" not in keys


@pytest.mark.parametrize("path", ["/dir/status", "/dir/assign", "/cluster/status", "/vol/status"])
def test_the_master_port_answers_no_one_without_a_certificate(server, path):
    master = f"127.0.0.1:{server.ports['master.port']}{path}"
    assert _status("GET", f"http://{master}") in (400, "refused")
    assert _status("GET", f"https://{master}", context=_tls(server, certificate=False)) == "refused"


def test_the_volume_servers_refuse_without_a_certificate_and_without_a_jwt(server):
    master = server.ports["master.port"]
    with urllib.request.urlopen(
        f"https://127.0.0.1:{master}/dir/assign", timeout=10, context=_tls(server, certificate=True)
    ) as r:
        assigned = json.loads(r.read())  # (the certificate is what guards the master)
    assert "auth" not in assigned  # the master hands out no write token
    volume = f"127.0.0.1:{assigned['url'].rpartition(':')[2]}/{assigned['fid']}"
    assert _status("PUT", f"https://{volume}", b"forged", _tls(server, certificate=False)) == "refused"
    assert _status("PUT", f"https://{volume}", b"forged", _tls(server, certificate=True)) == 401
    assert _status("GET", f"https://{volume}", context=_tls(server, certificate=True)) == 401


@pytest.mark.parametrize("port", ["master.port.grpc", "filer.port.grpc", "volume.port.grpc", "s3.port.grpc"])
def test_the_grpc_ports_take_only_clients_with_a_certificate(server, port):
    """`weed shell` or a gRPC client of a local user could otherwise read the filer's
    entries (small files are held inline) without any key."""

    def handshake(certificate: bool) -> str:
        ctx = _tls(server, certificate)
        ctx.set_alpn_protocols(["h2"])
        try:
            with socket.create_connection(("127.0.0.1", server.ports[port]), timeout=10) as raw:
                with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                    tls.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
                    return "settings" if tls.recv(9)[3:4] == b"\x04" else "other"  # an HTTP/2 SETTINGS frame
        except ssl.SSLCertVerificationError:
            raise
        except (ssl.SSLError, ConnectionError):
            return "refused"

    assert handshake(certificate=False) == "refused"
    assert handshake(certificate=True) == "settings"


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
    for key_file in ("security.toml", "s3.json", "tls/node.key", "tls/node.crt"):
        assert stat.S_IMODE((server.data_dir / key_file).stat().st_mode) == 0o600
    assert stat.S_IMODE((server.data_dir / "tls").stat().st_mode) == 0o700
    assert not (server.data_dir / "tls" / "ca.key").exists()
