"""Reads of the serving database's marts are logged into the access log.

A BI tool reads `marts.<mart>` through PostgreSQL, where neither pg_stat_statements nor
pgaudit can be loaded without a server restart, and the BI role's transactions are
read-only, so a read cannot write its own log row. Instead every mart table has row-level
security with one policy, `USING ((SELECT audit.note('<mart>')))`: the uncorrelated
sub-select is an InitPlan, run once per table reference of a query (not per row), and
the planner still uses the table's indexes for the query's own conditions. `audit.note`
is a SECURITY DEFINER function that records when (statement_timestamp), the session's
role, the backend, the mart and the SHA-256 of the whitespace-collapsed query text
(never the text: it may hold a pseudonym) through an autonomous dblink connection, kept
open for the session, into `audit.bi_reads`. The connection's target and credentials
are a `dblink_fdw` server and user mapping, so no password lives in the function's text.
A log row is written (and committed) even when the query then fails; when it cannot be
written, the read fails.

The BI role has no USAGE on schema `audit`, so it can neither read the log nor call
dblink through the session's open connection. :func:`pull_reads` (run by `civic
access-log` and by every refresh) moves the rows, one access per statement, into the
spool of lake.access_log and so into Iceberg `governance.access_log`.

A read that touches no row of a mart (an index lookup that finds nothing) is not logged:
the InitPlan only runs when the first row is filtered.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from lake.access_log import Access, append_to_spool

AUDIT_SCHEMA = "audit"
SERVER = "civic_audit"
POLICY = "civic_reads_logged"
CHANNEL = "postgres"
OUTCOME = "started"  # the read was allowed and began; PostgreSQL does not tell its rows


class AuditError(RuntimeError):
    """The serving database's logged reads cannot be moved (unreachable, refused)."""


_NOTE = """
CREATE OR REPLACE FUNCTION audit.note(mart text) RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, audit
AS $fn$
BEGIN
  IF NOT ('civic_audit' = ANY (coalesce(audit.dblink_get_connections(), '{}'))) THEN
    PERFORM audit.dblink_connect('civic_audit', 'civic_audit');
  END IF;
  PERFORM audit.dblink_exec('civic_audit', format(
    'INSERT INTO audit.bi_reads (at, backend_pid, role, mart, sql_fingerprint) VALUES (%L, %s, %L, %L, %L)',
    statement_timestamp(), pg_backend_pid(), session_user, mart,
    encode(sha256(convert_to(regexp_replace(btrim(current_query()), '\\s+', ' ', 'g'), 'UTF8')), 'hex')));
  RETURN true;
END
$fn$
"""


def fingerprint(query: str) -> str:
    """What audit.note stores for a query text: SHA-256 of it with whitespace runs
    collapsed to one space (as lake.access_log fingerprints a text it cannot parse)."""
    return hashlib.sha256(" ".join(query.split()).encode("utf-8")).hexdigest()


def setup_audit(db: psycopg.Connection, uri: str, role: str, durable: bool = True) -> list[str]:
    """Create (or bring up to date) schema `audit`, its log table, the dblink server the
    log is written through and `audit.note`, and put the policy on every mart table.
    `db` is an autocommit connection to the serving database as the user of `uri`.
    `durable` False commits the log rows with synchronous_commit off: a query no longer
    waits for the WAL flush (most of the cost on a busy disk), but a server crash can
    lose the log of the last moment's reads."""
    ident = sql.Identifier
    params = conninfo_to_dict(uri)
    server = {k: str(params[k]) for k in ("host", "port", "dbname") if params.get(k)}
    if not durable:
        server["options"] = "-c synchronous_commit=off"
    mapping = {"user": str(params.get("user") or db.info.user)}
    if params.get("password"):  # a non-superuser's dblink must log in with a password
        mapping["password"] = str(params["password"])
    db.execute("CREATE SCHEMA IF NOT EXISTS audit")
    db.execute("REVOKE ALL ON SCHEMA audit FROM PUBLIC")
    db.execute("CREATE EXTENSION IF NOT EXISTS dblink SCHEMA audit")
    (where,) = db.execute(
        "select n.nspname from pg_extension e join pg_namespace n on n.oid = e.extnamespace where e.extname = 'dblink'"
    ).fetchone() or ("audit",)
    if where != AUDIT_SCHEMA:  # its functions would be the BI role's to call, and note() would not find them
        raise AuditError(
            f"dblink is installed in schema {where} of the serving database; the access log needs it in schema "
            "audit, closed to the BI role: ALTER EXTENSION dblink SET SCHEMA audit (or drop it), then run setup again"
        )
    db.execute(
        "CREATE TABLE IF NOT EXISTS audit.bi_reads (id bigserial PRIMARY KEY, at timestamptz NOT NULL, "
        "backend_pid integer NOT NULL, role name NOT NULL, mart text NOT NULL, sql_fingerprint text NOT NULL)"
    )
    db.execute(sql.SQL("CREATE SERVER IF NOT EXISTS {} FOREIGN DATA WRAPPER dblink_fdw").format(ident(SERVER)))
    _set_options(db, sql.SQL("SERVER {}").format(ident(SERVER)), server, _options(db, "server"))
    db.execute(sql.SQL("CREATE USER MAPPING IF NOT EXISTS FOR CURRENT_USER SERVER {}").format(ident(SERVER)))
    _set_options(
        db, sql.SQL("USER MAPPING FOR CURRENT_USER SERVER {}").format(ident(SERVER)), mapping, _options(db, "mapping")
    )
    db.execute(_NOTE)
    db.execute("REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA audit FROM PUBLIC")
    db.execute(sql.SQL("GRANT EXECUTE ON FUNCTION audit.note(text) TO {}").format(ident(role)))
    with db.cursor() as cur:
        logged = ensure_policies(cur)
    return [
        f"access log: reads of the marts by {role} are logged into audit.bi_reads through dblink "
        f"({'durable' if durable else 'fast'} commits; policy {POLICY} on {len(logged)} new table(s))"
    ]


def _options(db: psycopg.Connection, kind: str) -> dict[str, str]:
    query = (
        "select srvoptions from pg_foreign_server where srvname = %s"
        if kind == "server"
        else "select umoptions from pg_user_mappings where srvname = %s and usename = current_user"
    )
    row = db.execute(query, [SERVER]).fetchone()
    return dict(o.split("=", 1) for o in (row[0] or [])) if row else {}


def _set_options(db: psycopg.Connection, target: sql.Composable, wanted: dict[str, str], have: dict[str, str]) -> None:
    changes = [
        sql.SQL("{} {} {}").format(sql.SQL("SET" if k in have else "ADD"), sql.Identifier(k), sql.Literal(v))
        for k, v in wanted.items()
        if have.get(k) != v
    ] + [sql.SQL("DROP {}").format(sql.Identifier(k)) for k in have if k not in wanted]
    if changes:
        db.execute(sql.SQL("ALTER {} OPTIONS ({})").format(target, sql.SQL(", ").join(changes)))


def policy_sql(table: str) -> list[str]:
    """The statements that make reads of `marts.<table>` logged (in one transaction: RLS
    enabled without the policy would hide every row)."""
    quoted = '"' + table.replace('"', '""') + '"'
    literal = "'" + table.replace("'", "''") + "'"
    return [
        f"ALTER TABLE marts.{quoted} ENABLE ROW LEVEL SECURITY",
        f"CREATE POLICY {POLICY} ON marts.{quoted} FOR SELECT TO PUBLIC USING ((SELECT audit.note({literal})))",
    ]


def ensure_policies(cur) -> list[str]:
    """Put the logging policy on every table of schema `marts` that lacks it, when the
    audit is set up in this database (`civic serve setup`); returns the tables changed.
    Works on any DB-API cursor (psycopg's, ADBC's)."""
    cur.execute("select to_regprocedure('audit.note(text)') is not null")
    if not cur.fetchall()[0][0]:
        return []
    cur.execute(
        """
        select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'marts' and c.relkind in ('r', 'p')
          and not exists (select 1 from pg_policy p where p.polrelid = c.oid and p.polname = 'civic_reads_logged')
        order by 1
        """
    )
    tables = [r[0] for r in cur.fetchall()]
    for table in tables:
        for statement in policy_sql(table):
            cur.execute(statement)
    return tables


def entry_id(backend_pid: int, at: dt.datetime, sql_fingerprint: str) -> str:
    """One id per statement, the same however often its rows are pulled (a pull killed
    between writing the spool and deleting the rows is redone without duplicates)."""
    return hashlib.sha256(f"pg:{backend_pid}:{at.isoformat()}:{sql_fingerprint}".encode()).hexdigest()[:32]


def group_reads(rows: list[tuple]) -> list[Access]:
    """audit.bi_reads rows (at, backend_pid, role, mart, sql_fingerprint) as accesses: one
    per statement (backend and start), naming every mart it read."""
    statements: dict[tuple, set[str]] = {}
    for at, pid, role, mart, fp in rows:
        statements.setdefault((at, pid, role, fp), set()).add(mart)
    return [
        Access(
            entry_id=entry_id(pid, at, fp),
            at=at.astimezone(dt.UTC),
            os_user=None,
            role=role,
            channel=CHANNEL,
            marts=",".join(sorted(marts)),
            sql_fingerprint=fp,
            rows=None,
            outcome=OUTCOME,
            refused=False,
            milliseconds=None,
        )
        for (at, pid, role, fp), marts in sorted(statements.items(), key=lambda kv: (kv[0][0], kv[0][1]))
    ]


def pull_reads(uri: str, home: Path) -> int:
    """Move the serving database's logged reads into the access log's spool; returns the
    statements moved (0 when the audit is not set up there)."""
    try:
        with psycopg.connect(uri) as db:
            if db.execute("select to_regclass('audit.bi_reads')").fetchone() == (None,):
                return 0
            rows = db.execute(
                "select id, at, backend_pid, role, mart, sql_fingerprint from audit.bi_reads order by id for update"
            ).fetchall()
            if not rows:
                return 0
            accesses = group_reads([r[1:] for r in rows])
            for access in accesses:
                append_to_spool(home, access)
            db.execute("delete from audit.bi_reads where id <= %s", [rows[-1][0]])
    except psycopg.Error as err:
        raise AuditError(
            f"cannot move the serving database's logged reads: {' '.join(str(err).split())}; "
            "is CIVIC_SERVING_URI right and reachable?"
        ) from None
    return len(accesses)
