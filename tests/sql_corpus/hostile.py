"""Hostile queries for `civic query`, grouped by kind (issue 18, items 1-5, reconstructed).

Each one must be refused by the guard, stopped by a limit, or run and show nothing but
marts; none may crash the process. Built from templates so each kind covers every system
view and every dangerous function we know of, in every spelling we know of."""

from __future__ import annotations

SYSTEM_VIEWS = [
    "pg_settings", "duckdb_databases", "sqlite_master", "sqlite_schema", "duckdb_columns",
    "duckdb_views", "duckdb_tables", "duckdb_schemas", "duckdb_settings", "duckdb_secrets",
    "duckdb_extensions", "duckdb_functions", "pg_class", "pg_proc", "pg_namespace",
    "pg_attribute", "pg_views", "pg_tables", "pg_database", "duckdb_temporary_files",
]  # fmt: skip

CTE_SHADOW = [
    template.format(v=view)
    for view in SYSTEM_VIEWS
    for template in (
        "with {v} as (select * from {v}) select * from {v}",
        "with recursive {v} as (select * from {v}) select * from {v}",
        "with x as (select 1 as one), {v} as (select * from {v}) select * from {v}",
        "with {v} as (select * from marts.scorecard) select * from (select * from {v}) s, (with y as (select * from {v}) select * from y) t",
        "select * from (with {v} as (select 1 as one) select * from {v}) a, {v}",
        "with {v} as (select * from main.{v}) select * from {v}",
    )
]

SYSTEM_TABLES = [
    template.format(v=view)
    for view in SYSTEM_VIEWS
    for template in (
        "select * from {v}",
        "select * from main.{v}",
        "select * from pg_catalog.{v}",
        "select * from system.main.{v}",
        'select * from "{v}"',
        "select * from {v}()",
    )
]

_FUNCTION_CALLS = [
    ("current_setting", "'secret_directory'"),
    ("current_setting", "'memory_limit'"),
    ("getenv", "'HOME'"),
    ("getvariable", "'x'"),
    ("pg_get_viewdef", "1"),
    ("version", ""),
    ("current_database", ""),
    ("current_schema", ""),
    ("current_query", ""),
    ("nextval", "'s'"),
    ("txid_current", ""),
    ("json_serialize_sql", "'select 1'"),
    ("read_text", "'/etc/passwd'"),
    ("read_blob", "'/etc/hostname'"),
    ("which_secret", "'s3://b/k', 's3'"),
    ("pg_sleep", "5"),
    ("sleep_ms", "5000"),
    ("write_log", "'x'"),
    ("current_user", ""),
    ("has_table_privilege", "'marts.scorecard', 'select'"),
]

FUNCTIONS = [
    template.format(f=f, F=f.upper(), a=args)
    for f, args in _FUNCTION_CALLS
    for template in (
        "select {f}({a})",
        'select "{f}"({a})',
        'select "{F}"({a})',
        'select system.main."{f}"({a})',
        "select pg_catalog.{f}({a})",
        "select * from marts.scorecard where {f}({a}) is not null",
    )
] + [
    "select pg_get_viewdef(oid) from range(0, 100000) t(oid)",
    "select pg_get_viewdef(r) from range(1, 2000) t(r) where pg_get_viewdef(r) is not null",
    "select list_transform([1], x -> current_setting('threads'))",
    "select (select current_setting('temp_directory'))",
    "select * from marts.scorecard order by getenv('PATH')",
    "select count(*) filter (where getenv('HOME') is not null) from marts.scorecard",
    "select sum(1) over (order by current_setting('threads')) from marts.scorecard",
]

TABLE_FUNCTIONS = [
    "select * from read_csv('/etc/passwd')",
    "select * from read_csv_auto('/etc/passwd')",
    "select * from \"read_csv\"('/etc/passwd')",
    "select * from read_parquet('s3://civic-lake/warehouse/x.parquet')",
    "select * from read_json('/etc/passwd')",
    "select * from read_text('/etc/hostname')",
    "select * from glob('/**')",
    "select * from parquet_metadata('/tmp/x.parquet')",
    "select * from sniff_csv('/etc/passwd')",
    "select * from query('select * from pg_settings')",
    "select * from query_table('pg_settings')",
    "select * from duckdb_settings()",
    "select * from duckdb_databases()",
    "select * from duckdb_views()",
    "select * from duckdb_secrets()",
    "select * from pragma_database_size()",
    "select * from pragma_table_info('marts.scorecard')",
    "select * from test_all_types()",
    "select * from json_execute_serialized_sql(json_serialize_sql('select 1'))",
    "select * from '/etc/passwd'",
    "select * from 'marts.duckdb'",
    "from '/etc/hostname'",
    "select * from read_duckdb('/tmp/x.duckdb')",
    "select * from range(3) t, read_csv('/etc/passwd')",
    "select * from marts.scorecard where service_id in (select * from read_csv('/etc/passwd'))",
    "select * from repeat_row(1, num_rows := 1000000000)",
]

STATEMENTS = [
    "drop table marts.scorecard",
    "delete from marts.scorecard",
    "update marts.scorecard set actual = 0",
    "insert into marts.scorecard select * from marts.scorecard",
    "create table marts.x as select 1",
    "create macro m() as 1",
    "create secret s (type s3, key_id 'k', secret 's')",
    "create view v as select * from pg_settings",
    "alter table marts.scorecard rename to x",
    "set enable_external_access = true",
    "reset lock_configuration",
    "set memory_limit = '100GB'",
    "pragma database_list",
    "pragma version",
    "call pragma_version()",
    "attach '/tmp/other.duckdb' as o",
    "detach marts",
    "install httpfs",
    "load httpfs",
    "export database '/tmp/out'",
    "import database '/tmp/out'",
    "copy marts.scorecard to '/tmp/x.csv'",
    "copy (select 1) to '/tmp/x.csv'",
    "checkpoint",
    "vacuum",
    "use pg_catalog",
    "begin transaction",
    "prepare p as select * from pg_settings",
    "execute p",
    "summarize select * from pg_settings",
    "describe pg_settings",
    "describe select * from pg_settings",
    "show databases",
    "show all tables",
    "select * into t from marts.scorecard",
    "with x as (delete from marts.scorecard returning *) select * from x",
    "explain select * from marts.scorecard",
    "explain analyze select * from marts.scorecard",
]

MULTI_STATEMENT = [
    "select 1; select 2",
    "select 1; drop table marts.scorecard",
    "select 1;\nset enable_external_access = true",
    "select 1 -- harmless\n; select * from pg_settings",
    "select 1 /* ; */ ; select current_setting('threads')",
    "select ';'; attach 'x.duckdb'",
    "select 1;;select 2",
]

CATALOGUE = [
    "select * from information_schema.views",
    "select view_definition from information_schema.views",
    "select * from information_schema.routines",
    "select * from information_schema.table_constraints",
    "select * from information_schema.key_column_usage",
    "select * from information_schema.character_sets",
    "select * from staging.stg_service_requests",
    "select * from raw.queue_events",
    "select * from main.stg_service_requests",
    "select * from build.marts.scorecard",
    "select * from marts.marts.scorecard",
    "select * from system.information_schema.tables",
    "select * from temp.information_schema.tables",
]

ERROR_LEAKS = [
    "select * from marts.stg_service_request",
    "select * from marts.pg_setting",
    "select * from marts.duckdb_view",
    "select * from marts.scorecards",
    "select * from marts.sqlite_maste",
    "select nosuchcolumn from marts.scorecard",
    "select * from marts.scorecard where fiscal_year = 'abc'",
    "select cast('x' as nosuchtype)",
    "select error('boom')",
]

UNBOUNDED = [
    "select count(*) from marts.scorecard a, marts.scorecard b, marts.scorecard c, marts.scorecard d",
    "select * from marts.scorecard a, marts.scorecard b, marts.scorecard c, marts.scorecard d",
    "with recursive t(n) as (select 1 union all select n + 1 from t) select count(*) from t",
    "with recursive t(n) as (select 1 union all select n + 1 from t) select * from t",
    "select unnest(generate_series(1, 500000000))",
    "select count(*) from (select unnest(generate_series(1, 500000000)))",
    "select * from range(10000000000)",
    "select sum(range) from range(100000000000)",
    "select length(string_agg(repeat('x', 1000), '')) from range(100000000)",
    "select list(range) from range(1000000000)",
    "select repeat('x', 2000000000)",
    "select count(*) from range(100000) a, range(100000) b",
]


def _nested(depth: int) -> str:
    return "select * from " + "(select * from " * depth + "marts.scorecard" + ") t" * depth


CRASHES = [
    _nested(500),
    _nested(7000),
    "select " + "(" * 7000 + "1" + ")" * 7000,
    "select " + "case when true then " * 3000 + "1" + " end" * 3000,
    "select " + "[" * 5000 + "1" + "]" * 5000,
    "select " + " + ".join(["1"] * 40000),
    "select 1 where 1 in (" + ",".join(map(str, range(50000))) + ")",
    "select '" + "x" * 200_000 + "'",
    "select " + "not " * 20000 + "true",
    "select " + "-" * 20000 + "1",
    "select * from marts.scorecard " + "union all select * from marts.scorecard " * 3000,
    "with " + ", ".join(f"c{i} as (select * from c{i - 1})" if i else "c0 as (select 1)" for i in range(3000)) + " select * from c2999",
]  # fmt: skip

KINDS: dict[str, list[str]] = {
    "cte_shadow": CTE_SHADOW,
    "system_tables": SYSTEM_TABLES,
    "functions": FUNCTIONS,
    "table_functions": TABLE_FUNCTIONS,
    "statements": STATEMENTS,
    "multi_statement": MULTI_STATEMENT,
    "catalogue": CATALOGUE,
    "error_leaks": ERROR_LEAKS,
    "unbounded": UNBOUNDED,
    "crashes": CRASHES,
}

HOSTILE = [(kind, sql) for kind, queries in KINDS.items() for sql in queries]
