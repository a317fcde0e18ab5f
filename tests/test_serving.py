"""The serving database for BI tools (lake/marts_serving.py, lake/serving_setup.py, `civic
serve`), against the real PostgreSQL on 127.0.0.1:5432. Every test module makes its own
databases and BI role (unique names) and drops them afterwards.

The publication is tested on a small DuckDB file made here (known rows, types and schema
changes) and on the demo's marts; the BI role with real clients: psql, psycopg and
SQLAlchemy's inspector as a BI tool uses them.
"""

import base64
import datetime as dt
import hashlib
import hmac
import json
import re
import subprocess
import sys
import uuid
from pathlib import Path

import duckdb
import psycopg
import pyarrow as pa
import pytest

from lake.marts_dictionary import ColumnDoc, MartDoc
from lake.marts_serving import (
    GONE_NOTE,
    MartShape,
    comments,
    pg_compatible,
    pg_type,
    publish_to_serving,
    quote_literal,
    table_ddl,
)
from lake.serving_setup import BiRole, SetupError, setup_serving

ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"


def _admin(sql: str, params=None):
    with psycopg.connect(ADMIN, autocommit=True) as con:
        cur = con.execute(sql, params)
        return cur.fetchall() if cur.description else None


def _drop_database(name: str) -> None:
    _admin("select pg_terminate_backend(pid) from pg_stat_activity where datname = %s", [name])
    _admin(f'drop database if exists "{name}"')


# --- pure helpers ---------------------------------------------------------------------------


def test_arrow_types_map_to_postgres_types():
    assert pg_type(pa.int32()) == "integer" and pg_type(pa.int64()) == "bigint"
    assert pg_type(pa.float64()) == "double precision" and pg_type(pa.bool_()) == "boolean"
    assert pg_type(pa.string()) == "text" and pg_type(pa.date32()) == "date"
    assert pg_type(pa.timestamp("us")) == "timestamp without time zone"
    assert pg_type(pa.timestamp("us", tz="UTC")) == "timestamp with time zone"
    assert pg_type(pa.decimal128(18, 3)) == "numeric(18,3)"
    assert pg_type(pa.list_(pa.string())) == "text[]"
    compatible = pg_compatible(pa.schema([("u", pa.uint32()), ("s", pa.large_string()), ("h", pa.uint64())]))
    assert [pg_type(f.type) for f in compatible] == ["bigint", "text", "numeric(20,0)"]
    with pytest.raises(Exception, match="no PostgreSQL type"):
        pg_type(pa.struct([("a", pa.int32())]))


def test_ddl_creates_then_follows_the_mart():
    shape = MartShape("kpis", pa.schema([("fiscal_year", pa.int32()), ("cost", pa.float64())]), "fiscal_year")
    create = table_ddl(shape, None)
    assert create[0] == 'CREATE TABLE marts."kpis" ("fiscal_year" integer, "cost" double precision)'
    assert create[1] == 'CREATE INDEX "kpis_fiscal_year_idx" ON marts."kpis" ("fiscal_year")'
    assert table_ddl(shape, {"fiscal_year": "integer", "cost": "double precision"}) == []
    grown = MartShape("kpis", shape.schema.append(pa.field("n", pa.int64())), "fiscal_year")
    assert table_ddl(grown, {"fiscal_year": "integer", "cost": "integer"}) == [
        'ALTER TABLE marts."kpis" ALTER COLUMN "cost" TYPE double precision USING "cost"::double precision',
        'ALTER TABLE marts."kpis" ADD COLUMN "n" bigint',
    ]


def test_comments_come_from_the_dictionary():
    shape = MartShape("kpis", pa.schema([("fiscal_year", pa.int32()), ("cost", pa.float64())]), "fiscal_year")
    doc = MartDoc(
        "kpis",
        "Costs.",
        "fiscal_year",
        (ColumnDoc("cost", "double", "It's the cost.", ()), ColumnDoc("gone", "double", "Old.", ())),
        (),
    )
    assert comments(shape, doc, kept=["old_cost"]) == {
        ("kpis", None): "Costs. Grain: fiscal_year.",
        ("kpis", "cost"): "It's the cost.",
        ("kpis", "old_cost"): GONE_NOTE,
    }
    assert quote_literal("It's") == "'It''s'"


# --- the publication, on a DuckDB file made here ------------------------------------------


@pytest.fixture
def serving_db():
    name = f"civic_test_serving_{uuid.uuid4().hex[:10]}"
    _admin(f'create database "{name}"')
    yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    _drop_database(name)


def _small_marts(path: Path) -> None:
    _duck_write(
        path,
        "create schema marts",
        """
        create table marts.kpis as
        select (2024 + i % 2)::integer as fiscal_year, 'SVC-' || i as service_id, (i * 1.5)::double as cost,
               (i * 1.25)::decimal(18, 3) as amount, date '2024-01-01' + i::integer as day,
               timestamp '2024-01-01 10:00' + to_minutes(i) as at, i % 3 = 0 as flag, i::bigint as n
        from range(1, 1001) t(i)
        """,
        "create table marts.plan as select 2026 as plan_year, 'baseline' as scenario, 100.0::double as total "
        "union all select 2026, 'online', 90.0",
    )


DICTIONARY = [
    MartDoc(
        "kpis",
        "Small KPIs for the test.",
        "fiscal_year x service_id",
        (ColumnDoc("cost", "double", "Cost of the service's year.", ()),),
        (),
    )
]


def _pg(uri: str, sql: str, params=None):
    with psycopg.connect(uri) as con:
        return con.execute(sql, params).fetchall()


def _qualified(path: Path, sql: str) -> str:
    """`marts.x` as `"<file>".marts.x`: unambiguous in a file called marts.duckdb."""
    return re.sub(r"\bmarts\.(?=\w)", f'"{path.stem}".marts.', sql)


def _duck_write(path: Path, *statements: str) -> None:
    with duckdb.connect(str(path)) as con:
        for statement in statements:
            con.execute(_qualified(path, statement))


def _duck(path: Path, sql: str):
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(_qualified(path, sql)).fetchall()


CHECKSUM = "select fiscal_year, count(*), sum(cost), sum(n), count(*) filter (where flag) from marts.kpis group by 1 order by 1"


def test_publish_creates_typed_commented_tables_and_replaces_exactly_the_year(tmp_path, serving_db):
    duck = tmp_path / "marts.duckdb"  # a file named like its schema, too
    _small_marts(duck)
    published = publish_to_serving(serving_db, duck, [2024, 2025], DICTIONARY, batch_rows=100)
    assert published == {"kpis": 1000, "plan": 2}
    types = dict(
        _pg(
            serving_db,
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'marts' and table_name = 'kpis'",
        )
    )
    assert types == {
        "fiscal_year": "integer",
        "service_id": "text",
        "cost": "double precision",
        "amount": "numeric",
        "day": "date",
        "at": "timestamp without time zone",
        "flag": "boolean",
        "n": "bigint",
    }
    assert _pg(serving_db, CHECKSUM) == [tuple(r) for r in _duck(duck, CHECKSUM)]
    assert _pg(serving_db, "select amount::text, day, at from marts.kpis where n = 4") == [
        ("5.000", dt.date(2024, 1, 5), dt.datetime(2024, 1, 1, 10, 4))
    ]
    assert _pg(serving_db, "select obj_description('marts.kpis'::regclass)") == [
        ("Small KPIs for the test. Grain: fiscal_year x service_id.",)
    ]
    assert _pg(serving_db, "select col_description('marts.kpis'::regclass, 3)") == [("Cost of the service's year.",)]

    before_2024 = _pg(serving_db, CHECKSUM)[0]
    _duck_write(  # a new FY2025: fewer, different rows; a new plan
        duck,
        "delete from marts.kpis where fiscal_year = 2025 and n > 500",
        "update marts.kpis set cost = cost + 1 where fiscal_year = 2025",
        "update marts.plan set total = total - 5",
    )
    assert publish_to_serving(serving_db, duck, [2025], DICTIONARY) == {"kpis": 250, "plan": 2}
    assert _pg(serving_db, CHECKSUM) == [tuple(r) for r in _duck(duck, CHECKSUM)]
    assert _pg(serving_db, CHECKSUM)[0] == before_2024  # the other year is untouched
    assert _pg(serving_db, "select scenario, total from marts.plan order by 1") == [
        ("baseline", 95.0),
        ("online", 85.0),
    ]


def test_the_tables_follow_a_mart_that_gains_renames_and_retypes_columns(tmp_path, serving_db):
    duck = tmp_path / "lakehouse.duckdb"
    _small_marts(duck)
    publish_to_serving(serving_db, duck, [2024, 2025], DICTIONARY)
    _duck_write(
        duck,
        "alter table marts.kpis rename column cost to cost_total",
        "alter table marts.kpis add column share double default 0.5",
        "alter table marts.kpis alter column n type double",
    )
    publish_to_serving(serving_db, duck, [2025], DICTIONARY)
    columns = dict(
        _pg(
            serving_db,
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'marts' and table_name = 'kpis'",
        )
    )
    assert columns["cost_total"] == "double precision" and columns["share"] == "double precision"
    assert columns["n"] == "double precision"
    assert columns["cost"] == "double precision"  # kept for the dashboards that use it
    assert _pg(
        serving_db,
        "select fiscal_year, count(cost), count(cost_total), sum(share) from marts.kpis group by 1 order by 1",
    ) == [(2024, 500, 0, None), (2025, 0, 500, 250.0)]
    assert _pg(serving_db, "select col_description('marts.kpis'::regclass, 3)") == [(GONE_NOTE,)]


def test_a_reader_sees_the_old_year_until_the_one_commit(tmp_path, serving_db, monkeypatch):
    """Between the DELETE + COPY of one mart and the commit of the year, another session
    still reads every old row of every mart of that year."""
    import lake.marts_serving as serving

    duck = tmp_path / "lakehouse.duckdb"
    _small_marts(duck)
    publish_to_serving(serving_db, duck, [2024, 2025], DICTIONARY)
    old = _pg(serving_db, CHECKSUM)
    _duck_write(duck, "update marts.kpis set cost = cost * 2")
    seen = []
    replace = serving._replace

    def watched(duck_con, cur, shape, year, last, batch_rows):
        rows = replace(duck_con, cur, shape, year, last, batch_rows)
        if rows is not None:  # a mart this year replaced
            seen.append(_pg(serving_db, CHECKSUM))  # another connection, mid-transaction
        return rows

    monkeypatch.setattr(serving, "_replace", watched)
    publish_to_serving(serving_db, duck, [2024, 2025], DICTIONARY)
    assert len(seen) == 3 and seen[0] == old  # FY2024: kpis; FY2025: kpis, then plan
    final = _pg(serving_db, CHECKSUM)
    assert final == [tuple(r) for r in _duck(duck, CHECKSUM)] and final[0] != old[0] and final[1] != old[1]
    assert seen[1] == [final[0], old[1]]  # FY2024 committed, FY2025 still old
    assert seen[2] == [final[0], old[1]]  # still old after its last mart, until the commit


def test_a_failed_copy_rolls_the_year_back_and_says_where(tmp_path, serving_db):
    from lake.marts_serving import ServingError

    duck = tmp_path / "lakehouse.duckdb"
    _small_marts(duck)
    publish_to_serving(serving_db, duck, [2024, 2025], DICTIONARY)
    before = _pg(serving_db, CHECKSUM)
    with psycopg.connect(serving_db, autocommit=True) as admin:  # a rule the new rows of FY2025 break
        admin.execute("alter table marts.kpis add constraint small_costs check (cost < 2000)")
    _duck_write(duck, "update marts.kpis set cost = cost + 1000 where fiscal_year = 2025")
    with pytest.raises(ServingError, match="failed at FY2025 .*rolled back.*small_costs"):
        publish_to_serving(serving_db, duck, [2025], DICTIONARY)
    assert _pg(serving_db, CHECKSUM) == before


def test_an_unreachable_serving_database_is_one_clear_error(tmp_path):
    from lake.marts_serving import ServingError

    duck = tmp_path / "lakehouse.duckdb"
    _small_marts(duck)
    with pytest.raises(ServingError, match="civic serve setup"):
        publish_to_serving("postgresql://postgres:pw@127.0.0.1:5432/civic_no_such_db_here", duck, [2024], DICTIONARY)


# --- setup and the BI role, with the demo's marts ---------------------------------------------


@pytest.fixture(scope="module")
def bi(demo_build):
    """A serving database set up by `civic serve setup` (twice: it is idempotent), a
    stand-in for the lake's catalog database, and the demo's marts published by
    `civic serve publish`."""
    from orchestration.cli import main

    tag = uuid.uuid4().hex[:10]
    database, catalog_db, role = f"civic_test_bi_{tag}", f"civic_test_bicat_{tag}", f"civic_bi_{tag}"
    _admin(f'create database "{catalog_db}"')
    uri = f"postgresql://postgres@127.0.0.1:5432/{database}"
    home, _, _ = demo_build
    env = {
        "CIVIC_HOME": str(home),
        "CIVIC_SERVING_URI": uri,
        "CIVIC_BI_ROLE": role,
        "CIVIC_BI_PASSWORD": "bi-secret-" + tag,
        "CIVIC_BI_STATEMENT_TIMEOUT": "1s",
        "CIVIC_BI_CONNECTION_LIMIT": "25",
        "CIVIC_CATALOG_URI": f"postgresql+psycopg://postgres@127.0.0.1:5432/{catalog_db}",
    }
    try:
        with pytest.MonkeyPatch.context() as mp:
            for key, value in env.items():
                mp.setenv(key, value)
            for var in ("CIVIC_DUCKDB", "CIVIC_LANDING", "DAGSTER_HOME"):
                mp.delenv(var, raising=False)
            assert main(["serve", "setup"]) == 0
            assert main(["serve", "setup"]) == 0
            assert main(["serve", "publish", "--years", "2021:2025"]) == 0
        yield {
            "uri": uri,
            "database": database,
            "catalog_db": catalog_db,
            "role": role,
            "password": env["CIVIC_BI_PASSWORD"],
            "bi_uri": f"postgresql://{role}:{env['CIVIC_BI_PASSWORD']}@127.0.0.1:5432/{database}",
            "duckdb": home / "lakehouse.duckdb",
        }
    finally:
        _drop_database(database)
        _drop_database(catalog_db)
        _admin(f'drop role if exists "{role}"')


def _dictionary():
    from lake.marts_dictionary import read_marts_dictionary
    from orchestration.defs.dbt.project import ensure_manifest

    return read_marts_dictionary(ensure_manifest())


def test_the_role_is_limited_as_configured(bi):
    (row,) = _admin(
        "select rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolconnlimit, rolconfig from pg_roles "
        "where rolname = %s",
        [bi["role"]],
    )
    assert row[:5] == (True, False, False, False, 25)
    assert set(row[5]) == {
        "default_transaction_read_only=on",
        "statement_timeout=1s",
        "idle_in_transaction_session_timeout=60s",
        "search_path=marts",
    }
    # the password is stored as a SCRAM-SHA-256 verifier of CIVIC_BI_PASSWORD (checked
    # here with hashlib, RFC 5802), never in clear
    ((verifier,),) = _admin("select rolpassword from pg_authid where rolname = %s", [bi["role"]])
    method, rest = verifier.split("$", 1)
    iterations_salt, keys = rest.split("$")
    iterations, salt = iterations_salt.split(":")
    stored_key, _server_key = keys.split(":")
    salted = hashlib.pbkdf2_hmac("sha256", bi["password"].encode(), base64.b64decode(salt), int(iterations))
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    assert method == "SCRAM-SHA-256" and base64.b64encode(hashlib.sha256(client_key).digest()).decode() == stored_key


def test_psql_lists_the_marts_with_descriptions_and_reads_them(bi):
    docs = {d.name: d for d in _dictionary()}
    out = subprocess.run(
        ["psql", bi["bi_uri"], "-X", "-A", "-t", "-F", "\t", "-c", r"\dt+ marts.*"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    listed = {line.split("\t")[1]: line.split("\t")[-1] for line in out.splitlines() if line}
    assert set(listed) == set(docs)
    assert listed["scorecard"].startswith(docs["scorecard"].description[:60])
    count = subprocess.run(
        ["psql", bi["bi_uri"], "-X", "-A", "-t", "-c", "select count(*) from marts.scorecard"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert int(count) == _duck(bi["duckdb"], "select count(*) from marts.scorecard")[0][0]
    refused = subprocess.run(
        ["psql", bi["bi_uri"], "-X", "-c", "delete from marts.scorecard"], capture_output=True, text=True
    )
    assert refused.returncode != 0 and "read-only transaction" in refused.stderr


def test_sqlalchemy_inspector_sees_schemas_tables_and_comments(bi):
    import sqlalchemy as sa

    docs = {d.name: d for d in _dictionary()}
    engine = sa.create_engine(bi["bi_uri"].replace("postgresql://", "postgresql+psycopg://"))
    try:
        inspector = sa.inspect(engine)
        # public is dropped; audit (the access log's, lake/serving_audit.py) is listed but closed to it
        assert inspector.get_schema_names() == ["audit", "information_schema", "marts"]
        assert sorted(inspector.get_table_names(schema="marts")) == sorted(docs)
        doc = docs["service_channel_kpis"]
        assert inspector.get_table_comment("service_channel_kpis", schema="marts")["text"].startswith(doc.description)
        columns = {c["name"]: c for c in inspector.get_columns("service_channel_kpis", schema="marts")}
        expected = {c.name: c.description for c in doc.columns}
        assert set(columns) == set(expected)
        assert all(columns[name]["comment"] == text for name, text in expected.items())
        with engine.connect() as con:  # what a BI tool sends on connect
            assert con.execute(sa.text("show transaction isolation level")).scalar() == "read committed"
            con.execute(sa.text("select * from pg_catalog.pg_matviews"))
            con.commit()
        with psycopg.connect(bi["bi_uri"], autocommit=True) as con:  # a pool resetting a session
            con.execute("DISCARD ALL")
    finally:
        engine.dispose()


def test_the_dashboard_queries_give_duckdbs_answers(bi):
    from bench.queries import QUERIES
    from bench.serving import postgres_sql

    year = 2025
    with psycopg.connect(bi["bi_uri"]) as con:
        for name, template in QUERIES.items():
            sql = template.format(year=year)
            theirs = con.execute(postgres_sql(sql)).fetchall()
            ours = _duck(bi["duckdb"], sql)
            assert len(theirs) == len(ours) > 0, name
            for a, b in zip(theirs, ours, strict=True):
                assert [pytest.approx(x, rel=1e-9) if isinstance(x, float) else x for x in b] == list(a), name
            con.rollback()


REFUSED = {
    "insert into marts.scorecard (fiscal_year) values (1)": "read-only transaction",
    "create table marts.x (a int)": "read-only transaction",
    "create temp table x (a int)": "read-only transaction",
    "select * from lake_private.secret": "permission denied",
    "set transaction read write; delete from marts.scorecard": "permission denied",
    "set transaction read write; create table lake_private.x (a int)": "permission denied",
    "set transaction read write; create temp table x (a int)": "permission denied",
    "select pg_sleep(2)": "statement timeout",
    "select * from pg_authid": "permission denied",
}


def test_writes_ddl_and_reads_outside_the_marts_are_refused(bi):
    with psycopg.connect(bi["uri"], autocommit=True) as admin:  # a table outside the marts
        admin.execute("create schema if not exists lake_private")
        admin.execute("create table if not exists lake_private.secret as select 1 as a")
    with psycopg.connect(bi["bi_uri"], autocommit=True) as con:
        for sql, message in REFUSED.items():
            with pytest.raises(psycopg.Error) as err:
                con.execute(sql)
            assert message in str(err.value), sql
    with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
        psycopg.connect(bi["bi_uri"].replace(bi["database"], bi["catalog_db"]))


def test_setup_refuses_a_missing_password_in_one_line():
    with pytest.raises(SetupError, match="CIVIC_BI_PASSWORD"):
        BiRole.from_env({})
    with pytest.raises(SetupError, match="lower-case SQL name"):
        BiRole.from_env({"CIVIC_BI_PASSWORD": "x", "CIVIC_BI_ROLE": "Robert'); drop"})
    with pytest.raises(SetupError, match="durable or fast"):
        BiRole.from_env({"CIVIC_BI_PASSWORD": "x", "CIVIC_BI_AUDIT_COMMIT": "sometimes"})
    assert BiRole.from_env({"CIVIC_BI_PASSWORD": "x"}).audit_durable
    assert not BiRole.from_env({"CIVIC_BI_PASSWORD": "x", "CIVIC_BI_AUDIT_COMMIT": "fast"}).audit_durable
    with pytest.raises(SetupError, match="names no database"):
        setup_serving("postgresql://postgres@127.0.0.1:5432", BiRole("civic_bi_never", "x"))


GRAPH = """
import json, dagster as dg
from orchestration.definitions import defs
graph = defs.resolve_asset_graph()
key = dg.AssetKey(["serving", "marts"])
facts = {"present": key in graph.get_all_asset_keys()}
if facts["present"]:
    upstream = dg.AssetSelection.assets(key).upstream().resolve(graph)
    facts["after_scorecard"] = dg.AssetKey(["marts", "scorecard"]) in upstream
    facts["partitioned"] = graph.get(key).partitions_def is not None
print(json.dumps(facts))
"""


def test_the_refresh_publishes_to_the_serving_database_when_one_is_configured(tmp_path):
    import os

    env = {
        "CIVIC_HOME": str(tmp_path / "civic"),
        "PATH": os.environ["PATH"],
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "CIVIC_SERVING_URI": "postgresql://postgres@127.0.0.1:5432/civic_unused",
    }
    out = subprocess.run([sys.executable, "-c", GRAPH], env=env, capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.splitlines()[-1]) == {"present": True, "after_scorecard": True, "partitioned": True}
    # without a serving database (this process: CIVIC_SERVING_URI unset) there is no such step
    assert "CIVIC_SERVING_URI" not in os.environ
    from orchestration.definitions import defs

    assert ["serving", "marts"] not in [k.path for k in defs.resolve_asset_graph().get_all_asset_keys()]


def test_the_bench_section_is_replaced_in_place_and_kept_by_the_main_harness(tmp_path):
    from bench.serving import SECTION_END, SECTION_START, keep_section, probe_sql, publish

    results = tmp_path / "RESULTS.md"
    results.write_text("# Benchmark results\n\nfigures\n")
    publish(results, f"{SECTION_START}\nfirst\n{SECTION_END}\n")
    publish(results, f"{SECTION_START}\nsecond\n{SECTION_END}\n")
    text = results.read_text()
    assert text.startswith("# Benchmark results\n\nfigures\n") and "second" in text and "first" not in text
    assert keep_section(results, "# New main report\n").endswith(f"{SECTION_START}\nsecond\n{SECTION_END}\n")
    assert probe_sql(2025).count("where fiscal_year = 2025") == 6


def test_civic_serve_without_a_serving_database_says_what_to_set(civic_home, monkeypatch, capsys):
    from orchestration.cli import main

    monkeypatch.delenv("CIVIC_SERVING_URI", raising=False)
    assert main(["serve", "setup"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("civic serve: CIVIC_SERVING_URI is not set") and "\n" not in err
    monkeypatch.setenv("CIVIC_SERVING_URI", "postgresql://postgres@127.0.0.1:5432/civic_unused")
    monkeypatch.delenv("CIVIC_BI_PASSWORD", raising=False)
    assert main(["serve", "setup"]) == 1
    assert "CIVIC_BI_PASSWORD is not set" in capsys.readouterr().err
    assert not civic_home.exists()  # nothing was created


@pytest.mark.slow
def test_civic_refresh_publishes_every_mart_to_the_serving_database(tmp_path, serving_db):
    """The whole path: `civic refresh` (a process of its own, as cron runs it) with
    CIVIC_SERVING_URI set leaves in PostgreSQL exactly the rows of every mart DuckDB holds."""
    import os

    from ingestion.demo import generate_demo

    home = tmp_path / "civic"
    generate_demo(home / "landing", years=[2025], size=0.02)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CIVIC_", "DAGSTER_"))}
    env.update(CIVIC_HOME=str(home), CIVIC_SERVING_URI=serving_db, DBT_SEND_ANONYMOUS_USAGE_STATS="false")
    env["CIVIC_PSEUDONYM_KEY"] = os.environ["CIVIC_PSEUDONYM_KEY"]  # the demo's survey respondents are personal
    civic = Path(sys.executable).with_name("civic")
    proc = subprocess.run([str(civic), "refresh", "--years", "2025"], env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "to the serving database" in proc.stdout
    duck = home / "lakehouse.duckdb"
    marts = [n for (n,) in _duck(duck, "select table_name from information_schema.tables where table_schema = 'marts'")]
    assert len(marts) >= 10
    for mart in marts:
        ours = _duck(duck, f"select count(*) from marts.{mart}")[0][0]
        assert _pg(serving_db, f"select count(*) from marts.{mart}") == [(ours,)], mart
    # the scorecard's numbers, not only its row count
    check = "select sum(score), count(status), sum(actual) from marts.scorecard where fiscal_year = 2025"
    (theirs,), (ours,) = _pg(serving_db, check), _duck(duck, check)
    assert theirs == pytest.approx(ours)


# --- the BI role's reads are logged (lake/serving_audit.py) ------------------------------------


def test_a_bi_read_is_logged_with_its_role_marts_and_fingerprint(bi, lake, monkeypatch, capsys):
    """Reads by the BI role land in governance.access_log (through `civic access-log`): one
    entry per statement, naming every mart it read, with the SHA-256 of its text."""
    from lake.access_log import read_access_log
    from orchestration.cli import main

    catalog = lake[1]  # a lake of this test's own
    tag = uuid.uuid4().hex[:8]  # a query text no earlier test of the module sent
    one = f"select count(*) from marts.scorecard where '{tag}' = '{tag}'"
    two = f"select count(*)  from marts.scorecard s join marts.service_channel_kpis k using (fiscal_year) -- {tag}"
    with psycopg.connect(bi["bi_uri"], autocommit=True) as con:
        assert con.execute(one).fetchone()[0] == _duck(bi["duckdb"], "select count(*) from marts.scorecard")[0][0]
        con.execute(two).fetchall()
        con.execute("set enable_seqscan = off")  # the demo's tables are small enough to be scanned whole
        plan = "\n".join(r[0] for r in con.execute("explain select * from marts.scorecard where fiscal_year = 2025"))
    assert "InitPlan" in plan  # the log is written once per query, not once per row
    assert "Index Cond: (fiscal_year = 2025)" in plan  # and the query's condition still reaches the index
    monkeypatch.setenv("CIVIC_SERVING_URI", bi["uri"])
    assert main(["access-log", "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert {(r["role"], r["mart"]) for r in report} >= {(bi["role"], "scorecard"), (bi["role"], "service_channel_kpis")}
    logged = {r["sql_fingerprint"]: r for r in read_access_log(catalog)}
    first, second = (logged[hashlib.sha256(" ".join(q.split()).encode()).hexdigest()] for q in (one, two))
    assert (first["role"], first["marts"], first["channel"], first["os_user"]) == (
        bi["role"],
        "scorecard",
        "postgres",
        None,
    )
    assert second["marts"] == "scorecard,service_channel_kpis" and not second["refused"]
    assert all(tag not in str(v) for r in logged.values() for v in r.values())  # no query text is kept
    # the rows left the serving database: a second pull adds nothing
    assert _pg(bi["uri"], "select count(*) from audit.bi_reads") == [(0,)]
    assert main(["access-log"]) == 0 and len(read_access_log(catalog)) == len(logged)


def test_the_bi_role_cannot_read_the_log_nor_use_its_connection(bi):
    with psycopg.connect(bi["bi_uri"], autocommit=True) as con:
        con.execute("select 1 from marts.scorecard limit 1").fetchall()  # opens the session's log connection
        for statement in (
            "select * from audit.bi_reads",
            "select audit.dblink_exec('civic_audit', 'delete from audit.bi_reads')",
            "select * from audit.dblink('civic_audit', 'select 1') t(a int)",
            "alter table marts.scorecard disable row level security",
            "drop policy civic_reads_logged on marts.scorecard",
        ):
            with pytest.raises(psycopg.Error, match="permission denied|must be owner|read-only"):
                con.execute(statement)
    assert _pg(bi["uri"], "select count(*) > 0 from audit.bi_reads") == [(True,)]


def test_every_published_mart_carries_the_logging_policy(bi):
    marts = {
        n
        for (n,) in _duck(bi["duckdb"], "select table_name from information_schema.tables where table_schema = 'marts'")
    }
    with_policy = _pg(
        bi["uri"],
        "select c.relname, c.relrowsecurity from pg_policy p join pg_class c on c.oid = p.polrelid "
        "where p.polname = 'civic_reads_logged'",
    )
    assert {n for n, _ in with_policy} == marts and all(on for _, on in with_policy)
    # durable by default: the log connection keeps synchronous_commit as the server has it
    (options,) = _pg(bi["uri"], "select srvoptions from pg_foreign_server where srvname = 'civic_audit'")[0]
    assert not any(o.startswith("options=") for o in options) and f"dbname={bi['database']}" in options


def test_logged_reads_group_into_one_access_per_statement():
    from lake.serving_audit import entry_id, fingerprint, group_reads, policy_sql

    at = dt.datetime(2026, 12, 7, 10, 0, tzinfo=dt.UTC)
    later = at + dt.timedelta(seconds=1)
    fp = fingerprint("select *\n  from marts.a join marts.b using (k)")
    assert fp == hashlib.sha256(b"select * from marts.a join marts.b using (k)").hexdigest()
    rows = [(at, 7, "bi", "b", fp), (at, 7, "bi", "a", fp), (at, 7, "bi", "a", fp), (later, 7, "bi", "a", "f2")]
    accesses = group_reads(rows)
    assert [(a.at, a.marts, a.role, a.channel, a.rows) for a in accesses] == [
        (at, "a,b", "bi", "postgres", None),
        (later, "a", "bi", "postgres", None),
    ]
    assert accesses[0].entry_id == entry_id(7, at, fp) != entry_id(8, at, fp)  # another backend, another query
    assert policy_sql("o'k") == [
        'ALTER TABLE marts."o\'k" ENABLE ROW LEVEL SECURITY',
        "CREATE POLICY civic_reads_logged ON marts.\"o'k\" FOR SELECT TO PUBLIC USING ((SELECT audit.note('o''k')))",
    ]


def test_setup_refuses_a_dblink_the_bi_role_could_call():
    """dblink already installed in another schema: its functions (and the session's open
    audit connection) would be within the BI role's reach, so setup refuses in one line."""
    tag = uuid.uuid4().hex[:8]
    database, role = f"civic_test_dbl_{tag}", f"civic_bi_dbl_{tag}"
    _admin(f'create database "{database}"')
    uri = f"postgresql://postgres@127.0.0.1:5432/{database}"
    try:
        with psycopg.connect(uri, autocommit=True) as admin:
            admin.execute("create extension dblink schema public")
        with pytest.raises(SetupError, match=r"dblink is installed in schema public .*ALTER EXTENSION dblink"):
            setup_serving(uri, BiRole(role, "pw"))
    finally:
        _drop_database(database)
        _admin(f'drop role if exists "{role}"')


def test_access_log_with_an_unreachable_serving_database_fails_in_one_line(lake, monkeypatch, capsys):
    from orchestration.cli import main

    monkeypatch.setenv("CIVIC_SERVING_URI", "postgresql://postgres@127.0.0.1:5432/civic_no_such_db_here")
    assert main(["access-log"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("civic access-log: cannot move the serving database's logged reads") and "\n" not in err
