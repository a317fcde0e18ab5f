"""One real BI application against the serving database: Apache Superset.

Run by scripts/superset_check.sh with the Python of Superset's own environment (never the
project's): it makes a throw-away Superset home (SQLite metadata), starts Superset's web
server on 127.0.0.1, and through its REST API, as a user would from the UI:

1. registers the serving database by its SQLAlchemy URL (the BI role's), after Superset's
   own connection test;
2. lists the schemas and the tables of `marts` Superset sees;
3. creates a dataset on marts.scorecard;
4. saves a chart (measures per perspective and status for one fiscal year) and runs its
   query through the chart data API, printing the SQL Superset generated and the rows.

Usage: superset_check.py SQLALCHEMY_URL [--year 2025] [--workdir DIR] [--port 8098]
Exit 0 when every step worked.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ADMIN, ADMIN_PASSWORD = "admin", secrets.token_urlsafe(12)


def superset(env: dict, *args: str) -> None:
    cli = str(Path(sys.executable).with_name("superset"))
    proc = subprocess.run([cli, *args], env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"superset {' '.join(args[:2])} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")


def step(title: str) -> None:
    print(f"== {title}", flush=True)


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument(
        "url", help="SQLAlchemy URL of the serving database, e.g. postgresql://civic_bi:PW@127.0.0.1:5432/db"
    )
    p.add_argument("--year", type=int, default=2025)
    p.add_argument("--workdir", type=Path, help="Superset home (default: a temporary directory, removed)")
    p.add_argument("--port", type=int, default=8098)
    args = p.parse_args()

    work = args.workdir or Path(tempfile.mkdtemp(prefix="superset-check-"))
    work.mkdir(parents=True, exist_ok=True)
    config = work / "superset_config.py"
    config.write_text(
        f"SECRET_KEY = {secrets.token_urlsafe(42)!r}\n"
        f"SQLALCHEMY_DATABASE_URI = 'sqlite:///{work / 'superset.db'}'\n"
        "WTF_CSRF_ENABLED = True\n"
        "SQLLAB_CTAS_NO_LIMIT = True\n"
    )
    env = {
        **os.environ,
        "SUPERSET_CONFIG_PATH": str(config),
        "SUPERSET_HOME": str(work),
        "FLASK_APP": "superset",
        "SUPERSET_LOAD_EXAMPLES": "no",
    }
    t0 = time.monotonic()
    step("superset db upgrade / create-admin / init")
    superset(env, "db", "upgrade")
    superset(
        env,
        "fab",
        "create-admin",
        "--username",
        ADMIN,
        "--firstname",
        "civic",
        "--lastname",
        "check",
        "--email",
        "admin@example.invalid",
        "--password",
        ADMIN_PASSWORD,
    )
    superset(env, "init")
    print(f"   metadata ready in {time.monotonic() - t0:.0f}s")

    cli = str(Path(sys.executable).with_name("superset"))
    log = open(work / "server.log", "w")
    server = subprocess.Popen(
        [cli, "run", "-h", "127.0.0.1", "-p", str(args.port), "--with-threads"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{args.port}"
    ok = False
    try:
        for _ in range(120):
            try:
                if requests.get(f"{base}/health", timeout=2).text.strip() == "OK":
                    break
            except requests.ConnectionError:
                pass
            time.sleep(1)
        else:
            raise SystemExit(f"Superset did not answer on {base} (see {work / 'server.log'})")
        ok = check(base, args.url, args.year)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        log.close()
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)
    print("SUPERSET CHECK PASSED" if ok else "SUPERSET CHECK FAILED")
    return 0 if ok else 1


def check(base: str, url: str, year: int) -> bool:
    s = requests.Session()

    def call(method: str, path: str, **kw) -> dict:
        r = s.request(method, f"{base}{path}", timeout=120, **kw)
        if r.status_code >= 400:
            detail = r.text[:1500] if "json" in r.headers.get("content-type", "") else "(an HTML error page)"
            raise SystemExit(f"{method} {path}: HTTP {r.status_code}: {detail}; see the Superset server log")
        return r.json()

    token = call(
        "POST", "/api/v1/security/login", json={"username": ADMIN, "password": ADMIN_PASSWORD, "provider": "db"}
    )["access_token"]
    s.headers["Authorization"] = f"Bearer {token}"
    s.headers["X-CSRFToken"] = call("GET", "/api/v1/security/csrf_token/")["result"]
    s.headers["Referer"] = base
    import importlib.metadata as md

    print(f"   Superset {md.version('apache-superset')} on {base}")

    step("register the serving database by its SQLAlchemy URL")
    masked = url.split("@")[-1]
    call("POST", "/api/v1/database/test_connection/", json={"sqlalchemy_uri": url, "database_name": "civic marts"})
    print(f"   connection test passed for ...@{masked}")
    db = call("POST", "/api/v1/database/", json={"database_name": "civic marts", "sqlalchemy_uri": url})
    db_id = db["id"]
    print(f"   database id {db_id}, backend {db['result'].get('backend')}")

    step("schemas and tables Superset sees")
    schemas = call("GET", f"/api/v1/database/{db_id}/schemas/")["result"]
    print(f"   schemas: {schemas}")
    q = "(schema_name:marts,force:!t)"
    tables = call("GET", f"/api/v1/database/{db_id}/tables/?q={q}")["result"]
    names = sorted(t["value"] for t in tables)
    print(f"   marts tables ({len(names)}): {', '.join(names)}")
    meta = call("GET", f"/api/v1/database/{db_id}/table_metadata/?name=scorecard&schema=marts")
    comments = {c["name"]: c.get("comment") for c in meta.get("columns", [])}
    print(f"   scorecard: comment {str(meta.get('comment'))[:90]!r}...")
    print(f"   scorecard.score comment: {comments.get('score')!r}")

    step("dataset on marts.scorecard")
    ds = call("POST", "/api/v1/dataset/", json={"database": db_id, "schema": "marts", "table_name": "scorecard"})
    ds_id = ds["id"]
    detail = call("GET", f"/api/v1/dataset/{ds_id}")["result"]
    print(
        f"   dataset id {ds_id}: {len(detail['columns'])} columns, metrics {[m['metric_name'] for m in detail['metrics']]}"
    )

    step(f"a chart: measures per perspective and status, FY{year}")
    query = {
        "columns": ["perspective", "status"],
        "metrics": ["count"],
        "filters": [{"col": "fiscal_year", "op": "==", "val": year}],
        "orderby": [["perspective", True]],
        "row_limit": 100,
    }
    context = {
        "datasource": {"id": ds_id, "type": "table"},
        "queries": [query],
        "form_data": {"viz_type": "table", "datasource": f"{ds_id}__table"},
        "result_format": "json",
        "result_type": "full",
    }
    chart = call(
        "POST",
        "/api/v1/chart/",
        json={
            "slice_name": f"Scorecard status FY{year}",
            "viz_type": "table",
            "datasource_id": ds_id,
            "datasource_type": "table",
            "params": json.dumps({"groupby": ["perspective", "status"], "metrics": ["count"]}),
            "query_context": json.dumps(context),
        },
    )
    chart_id = chart["id"]
    print(f"   chart id {chart_id}")
    sql = call("POST", "/api/v1/chart/data", json={**context, "result_type": "query"})["result"][0]["query"]
    print("   SQL Superset sends:\n" + "\n".join("     " + line for line in sql.strip().splitlines()))
    data = call("GET", f"/api/v1/chart/{chart_id}/data/?format=json")["result"][0]
    rows = data["data"]
    print(f"   the chart's query returned {data['rowcount']} rows:")
    for row in rows:
        print(f"     {row}")
    total = sum(r["count"] for r in rows)
    print(f"   measures in total: {total}")
    return bool(rows) and "scorecard" in names and data.get("status") == "success"


if __name__ == "__main__":
    sys.exit(main())
