"""Set up the serving database and the login role BI tools use, idempotently.

The serving database holds only the marts (schema `marts`) and is a database of its own,
never the Iceberg catalog's. The BI role can connect to it and SELECT the marts, nothing
else: no other schema (PUBLIC loses its rights on `public`), no temporary tables, no
writes (no privilege, and `default_transaction_read_only` besides), statements cut at
`statement_timeout`, and at most `connection_limit` sessions; every read of a mart is
logged (lake.serving_audit). Its password comes from the
environment and is sent to the server only as a SCRAM-SHA-256 verifier computed by libpq.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from lake.marts_serving import SCHEMA
from lake.serving_audit import AuditError, setup_audit

NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class SetupError(RuntimeError):
    """The serving database or the BI role cannot be set up as asked."""


@dataclass(frozen=True)
class BiRole:
    name: str
    password: str
    statement_timeout: str = "30s"
    connection_limit: int = 30
    idle_in_transaction_timeout: str = "60s"
    audit_durable: bool = True  # the access log's rows wait for the WAL flush (lake.serving_audit)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> BiRole:
        """CIVIC_BI_ROLE (default civic_bi), CIVIC_BI_PASSWORD (required),
        CIVIC_BI_STATEMENT_TIMEOUT (default 30s), CIVIC_BI_CONNECTION_LIMIT (default 30),
        CIVIC_BI_AUDIT_COMMIT (durable, the default, or fast)."""
        env = dict(os.environ if env is None else env)
        password = env.get("CIVIC_BI_PASSWORD", "")
        if not password:
            raise SetupError("CIVIC_BI_PASSWORD is not set: export the BI role's password first")
        try:
            limit = int(env.get("CIVIC_BI_CONNECTION_LIMIT", "30"))
        except ValueError:
            raise SetupError("CIVIC_BI_CONNECTION_LIMIT must be a whole number of connections") from None
        if limit < 1:
            raise SetupError("CIVIC_BI_CONNECTION_LIMIT must be at least 1")
        commit = env.get("CIVIC_BI_AUDIT_COMMIT", "durable")
        if commit not in ("durable", "fast"):
            raise SetupError(f"CIVIC_BI_AUDIT_COMMIT must be durable or fast, not {commit!r}")
        role = cls(
            audit_durable=commit == "durable",
            name=env.get("CIVIC_BI_ROLE", "civic_bi"),
            password=password,
            statement_timeout=env.get("CIVIC_BI_STATEMENT_TIMEOUT", "30s"),
            connection_limit=limit,
        )
        _check_name(role.name, "CIVIC_BI_ROLE")
        return role


def _check_name(name: str, what: str) -> None:
    if not NAME.match(name):
        raise SetupError(f"{what} {name!r} must be a lower-case SQL name (letters, digits, _)")


def serving_database(uri: str) -> str:
    """The database name of CIVIC_SERVING_URI."""
    try:
        name = conninfo_to_dict(uri).get("dbname")
    except psycopg.ProgrammingError as err:
        raise SetupError(f"CIVIC_SERVING_URI is not a PostgreSQL URI: {err}") from None
    if not name:
        raise SetupError("CIVIC_SERVING_URI names no database (e.g. postgresql://user@host:5432/civic_marts)")
    _check_name(str(name), "the serving database")
    return str(name)


def _connect(uri: str, dbname: str | None = None) -> psycopg.Connection:
    conninfo = make_conninfo(uri, dbname=dbname) if dbname else uri
    try:
        return psycopg.connect(conninfo, autocommit=True)
    except psycopg.OperationalError as err:
        raise SetupError(f"cannot connect to PostgreSQL: {' '.join(str(err).split())}") from None


def setup_serving(uri: str, role: BiRole, lake_databases: dict[str, str] | None = None) -> list[str]:
    """Create (or bring up to date) the serving database, its schema `marts` and the BI
    role; return one line per thing done or found. `lake_databases` (name -> the user the
    lake connects as) are this lake's other databases on the same server (the Iceberg
    catalog's, Dagster's): PUBLIC loses CONNECT on them, their user gets it explicitly."""
    database = serving_database(uri)
    done: list[str] = []
    ident = sql.Identifier
    with _connect(uri, "postgres") as admin:
        if admin.execute("select 1 from pg_database where datname = %s", [database]).fetchone():
            done.append(f"database {database}: exists")
        else:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(ident(database)))
            done.append(f"database {database}: created")
        verifier = admin.pgconn.encrypt_password(role.password.encode(), role.name.encode(), b"scram-sha-256")
        exists = admin.execute("select 1 from pg_roles where rolname = %s", [role.name]).fetchone()
        options = sql.SQL(
            "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS CONNECTION LIMIT {} PASSWORD {}"
        ).format(sql.Literal(role.connection_limit), sql.Literal(verifier.decode()))
        verb = "ALTER" if exists else "CREATE"
        admin.execute(sql.SQL(verb + " ROLE {} WITH ").format(ident(role.name)) + options)
        for setting, value in (
            ("default_transaction_read_only", "on"),
            ("statement_timeout", role.statement_timeout),
            ("idle_in_transaction_session_timeout", role.idle_in_transaction_timeout),
            ("search_path", SCHEMA),  # an unqualified `scorecard` finds the mart
        ):
            try:
                admin.execute(
                    sql.SQL("ALTER ROLE {} SET {} = {}").format(ident(role.name), ident(setting), sql.Literal(value))
                )
            except psycopg.errors.DataException as err:
                raise SetupError(f"{setting} = {value!r} is refused by PostgreSQL: {err}") from None
        done.append(
            f"role {role.name}: {'updated' if exists else 'created'} (login, connection limit "
            f"{role.connection_limit}, statement_timeout {role.statement_timeout}, read-only transactions)"
        )
        for name, user in (lake_databases or {}).items():
            if name == database or not admin.execute("select 1 from pg_database where datname = %s", [name]).fetchone():
                continue
            if user:
                admin.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(ident(name), ident(user)))
            admin.execute(sql.SQL("REVOKE CONNECT, TEMPORARY ON DATABASE {} FROM PUBLIC").format(ident(name)))
            done.append(f"database {name} (the lake's): closed to PUBLIC" + (f", open to {user}" if user else ""))
        still_open = [
            d
            for (d,) in admin.execute(
                "select datname from pg_database where datallowconn and datname <> %s "
                "and has_database_privilege(%s, datname, 'CONNECT') order by 1",
                [database, role.name],
            ).fetchall()
        ]
    with _connect(uri) as db:
        db.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(ident(SCHEMA)))
        statements = [
            "REVOKE ALL ON DATABASE {db} FROM PUBLIC",
            "GRANT CONNECT ON DATABASE {db} TO {role}",
            "REVOKE ALL ON SCHEMA {schema} FROM PUBLIC",
            "GRANT USAGE ON SCHEMA {schema} TO {role}",
            "GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {role}",
            # the tables a publication creates later (as this user) are readable at once
            "ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT SELECT ON TABLES TO {role}",
        ]
        for statement in statements:
            db.execute(sql.SQL(statement).format(db=ident(database), role=ident(role.name), schema=ident(SCHEMA)))
        # `public`: dropped when empty (one schema less for a BI tool to list), else closed
        public = db.execute(
            "select exists (select 1 from pg_depend d join pg_namespace n on n.oid = d.refobjid "
            "where d.refclassid = 'pg_namespace'::regclass and n.nspname = 'public') "
            "from pg_namespace where nspname = 'public'"
        ).fetchone()
        if public is not None and not public[0]:
            db.execute("DROP SCHEMA public")
            done.append(f"schema {database}.public: dropped (it was empty; BI tools list only marts)")
        elif public is not None:
            db.execute("REVOKE ALL ON SCHEMA public FROM PUBLIC")
        try:
            done += setup_audit(db, uri, role.name, role.audit_durable)  # every read by the BI role is logged
        except AuditError as err:
            raise SetupError(str(err)) from None
    if still_open:
        done.append(
            f"note: {role.name} can still connect to {', '.join(still_open)} through PUBLIC (it can read only "
            "what PUBLIC can there); close them with REVOKE CONNECT ON DATABASE ... FROM PUBLIC or pg_hba.conf"
        )
    return done
