"""S3 faults: the production profile (Iceberg catalog and Dagster on PostgreSQL, the
warehouse on SeaweedFS) with a fault-injecting proxy on 127.0.0.1 between the lake and
SeaweedFS, and a SeaweedFS server killed and restarted in the middle of a refresh.

    uv run python -m bench.s3_faults --rates 0.01,0.05,0.2 --years 2025 --size 0.02

Each scenario refreshes a fresh lake (new databases, new bucket prefix) through the proxy;
a refresh that fails is run again once. The lake's checksums (every raw table, the
quarantine, the newest ledger rows, every mart in DuckDB and Iceberg, per fiscal year)
are compared with a clean run without faults. The proxy answers a share of the requests
itself, before they reach SeaweedFS: HTTP 500 (InternalError), 503 (SlowDown), or a
dropped connection (closed without an answer), in equal parts. Retries are the S3
client's own (lake/s3_retry.py: the AWS SDK's standard mode) and Dagster's retry policy.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from bench.crash_test import read_lake
from bench.env import create_databases, drop_databases, production_env

ACCESS_KEY, SECRET_KEY, BUCKET = "civic-faults", "civic-faults-secret", "civic-lake"
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"}
FAULTS = ("500", "503", "drop")


class FaultProxy:
    """An HTTP/1.1 proxy to one upstream that fails a share of the requests."""

    def __init__(self, upstream_port: int, rate: float, seed: int = 5):
        self.upstream_port = upstream_port
        self.rate = rate
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.counts = {"requests": 0, **dict.fromkeys(FAULTS, 0)}
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # quiet
                pass

            def _body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    chunks = []
                    while True:
                        size = int(self.rfile.readline().split(b";")[0], 16)
                        if size == 0:
                            self.rfile.readline()
                            return b"".join(chunks)
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _handle(self) -> None:
                body = self._body()
                fault = proxy.decide()
                if fault == "drop":
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if fault:
                    code, name = (500, "InternalError") if fault == "500" else (503, "SlowDown")
                    payload = f"<Error><Code>{name}</Code><Message>injected</Message></Error>".encode()
                    self.send_response(code)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(payload)
                    return
                upstream = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port, timeout=120)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                if body or self.command in ("PUT", "POST"):
                    headers["Content-Length"] = str(len(body))
                upstream.request(self.command, self.path, body=body or None, headers=headers)
                response = upstream.getresponse()
                data = response.read()
                self.send_response_only(response.status, response.reason)
                head = self.command == "HEAD"  # its Content-Length is the object's, not this empty body's
                for key, value in response.getheaders():
                    if key.lower() not in HOP_BY_HOP and (head or key.lower() != "content-length"):
                        self.send_header(key, value)
                if not head:
                    self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                upstream.close()

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def decide(self) -> str | None:
        with self.lock:
            self.counts["requests"] += 1
            if self.rng.random() >= self.rate:
                return None
            fault = self.rng.choice(FAULTS)
            self.counts[fault] += 1
            return fault

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> FaultProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


PSEUDONYM_KEY = os.environ.get("CIVIC_PSEUDONYM_KEY") or secrets.token_hex(32)


def _env(root: Path, landing: Path, endpoint: str, dbs: dict[str, str], prefix: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CIVIC_", "DAGSTER_", "AWS_"))}
    lake = production_env(root, dbs, endpoint, ACCESS_KEY, SECRET_KEY, f"s3://{BUCKET}/{prefix}")
    # one pseudonymisation key for every lake of a run
    return env | lake | {"CIVIC_LANDING": str(landing), "CIVIC_PSEUDONYM_KEY": PSEUDONYM_KEY}


def checksums(env: dict[str, str]) -> dict[str, str]:
    """One SHA-256 per table and fiscal year over its rows (volatile columns left out)."""
    tables = read_lake(Path(env["CIVIC_HOME"]), Path(env["CIVIC_LANDING"]), env)
    out = {}
    for name, years in tables.items():
        for year, rows in years.items():
            out[f"{name} FY{year}"] = hashlib.sha256(json.dumps(sorted(rows.items())).encode()).hexdigest()[:16]
    return out


def _refresh(env: dict[str, str], years: str, timeout: float, during=None) -> tuple[int | None, str]:
    civic = str(Path(sys.executable).with_name("civic"))
    proc = subprocess.Popen(
        [civic, "refresh", "--years", years], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    if during:
        threading.Thread(target=during, daemon=True).start()
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        return None, out
    return proc.returncode, out


def _failure_line(out: str) -> str:
    lines = [line for line in out.splitlines() if line.strip().startswith("- ") or "FAILED" in line]
    return " | ".join(lines)[:400] or out.strip().splitlines()[-1][:400]


def run(args: argparse.Namespace) -> dict:
    from ingestion.demo import generate_demo
    from orchestration.services import seaweed

    root = Path(args.workdir or tempfile.mkdtemp(prefix="civic-s3faults-"))
    landing = root / "landing"
    first, _, last = args.years.partition(":")
    if not (landing / "demo_truths.json").exists():
        generate_demo(landing, years=list(range(int(first), int(last or first) + 1)), size=args.size)
    server = seaweed.start(root / "seaweed", ACCESS_KEY, SECRET_KEY)
    seaweed.ensure_bucket(server.client(), BUCKET)
    created: list[dict[str, str]] = []
    results: dict = {"scenarios": []}

    def scenario(name: str, rate: float, during=None, restart=None) -> dict:
        dbs = create_databases("civic_faults")
        created.append(dbs)
        home = root / name
        shutil.rmtree(home, ignore_errors=True)
        with FaultProxy(server.s3_port, rate) as proxy:
            env = _env(home, landing, proxy.endpoint, dbs, f"warehouse-{name}")
            t0 = time.monotonic()
            code, out = _refresh(env, args.years, args.timeout, during and (lambda: during(env)))
            attempts = [{"exit": code, "seconds": round(time.monotonic() - t0, 1)}]
            if code != 0:
                attempts[0]["failure"] = _failure_line(out)
                if restart:
                    restart()
                t0 = time.monotonic()
                code, out = _refresh(env, args.years, args.timeout)
                attempts.append({"exit": code, "seconds": round(time.monotonic() - t0, 1)})
            retried = [line for line in out.splitlines() if line.startswith("Retried after transient errors")]
            sums = checksums(env) if code == 0 else {}
            counts = dict(proxy.counts)
        entry = {
            "scenario": name,
            "rate": rate,
            "attempts": attempts,
            "succeeded": code == 0,
            "dagster_retries": retried[0].split(": ", 1)[1] if retried else "",
            "proxy": counts,
            "checksums": sums,
        }
        print(
            f"{name}: {attempts} proxy {counts} dagster step retries: {entry['dagster_retries'] or 'none'}",
            flush=True,
        )
        return entry

    try:
        clean = scenario("clean", 0.0)
        results["scenarios"].append(clean)
        for rate in [float(r) for r in args.rates.split(",") if r]:
            entry = scenario(f"faults-{rate:g}", rate)
            results["scenarios"].append(entry)
        if args.kill_server:
            holder = {"server": server}

            def kill_and_restart(env: dict[str, str]) -> None:
                time.sleep(args.kill_after)
                os.kill(holder["server"].pid, signal.SIGKILL)  # killed, not stopped
                holder["server"].stop()  # reaps it, forgets its state file
                print(f"  SeaweedFS killed {args.kill_after:.0f} s into the refresh", flush=True)
                time.sleep(args.down_for)
                holder["server"] = seaweed.start(root / "seaweed", ACCESS_KEY, SECRET_KEY, s3_port=server.s3_port)
                print(f"  SeaweedFS restarted after {args.down_for:.0f} s", flush=True)

            entry = scenario("server-killed", 0.0, during=kill_and_restart)
            server = holder["server"]
            results["scenarios"].append(entry)
        reference = clean["checksums"]
        for entry in results["scenarios"]:
            entry["same_checksums_as_clean"] = bool(entry["checksums"]) and entry["checksums"] == reference
            entry["differing"] = sorted(
                k for k in set(reference) | set(entry["checksums"]) if reference.get(k) != entry["checksums"].get(k)
            )[:10]
        for entry in results["scenarios"]:
            entry["tables_years"] = len(entry.pop("checksums"))
    finally:
        server.stop()
        for dbs in created:
            drop_databases(dbs)
        if not args.workdir:
            shutil.rmtree(root, ignore_errors=True)
    return results


def report(results: dict) -> str:
    lines = [
        "# S3 fault results",
        "",
        "`python -m bench.s3_faults` (bench/s3_faults.py): production profile, SeaweedFS behind a",
        "fault-injecting proxy; a failed refresh is run once more.",
        "",
        "| scenario | requests | 500 | 503 | dropped | refreshes (exit, s) | Dagster step retries | same checksums as clean |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for e in results["scenarios"]:
        p = e["proxy"]
        runs = ", ".join(f"{a['exit']} in {a['seconds']} s" for a in e["attempts"])
        lines.append(
            f"| {e['scenario']} | {p['requests']} | {p['500']} | {p['503']} | {p['drop']} | {runs} | "
            f"{e['dagster_retries'] or 'none'} | {e['same_checksums_as_clean']} ({e['tables_years']} table-years) |"
        )
    failures = [
        f"- {e['scenario']}: {a['failure']}" for e in results["scenarios"] for a in e["attempts"] if "failure" in a
    ]
    if failures:
        lines += ["", "Messages of the refreshes that failed (the next one succeeded):", "", *failures]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.s3_faults", description=__doc__)
    p.add_argument("--rates", default="0.01,0.05,0.2", help="shares of failed requests (default 0.01,0.05,0.2)")
    p.add_argument("--years", default="2025")
    p.add_argument("--size", type=float, default=0.02)
    p.add_argument("--timeout", type=float, default=900, help="a refresh longer than this hangs (default 900 s)")
    p.add_argument("--no-kill-server", dest="kill_server", action="store_false", help="leave out the server kill")
    p.add_argument("--kill-after", type=float, default=25, help="SeaweedFS killed this long into the refresh")
    p.add_argument("--down-for", type=float, default=10, help="and restarted after this long")
    p.add_argument("--workdir")
    p.add_argument("--json")
    p.add_argument("--publish")
    args = p.parse_args(argv)
    results = run(args)
    text = report(results)
    print(text)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    if args.publish:
        Path(args.publish).write_text(text)
    ok = all(e["succeeded"] and e["same_checksums_as_clean"] for e in results["scenarios"])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
