import pytest

from lake.sql_guard import QueryRefused, guard

ALLOWED = [
    "select * from marts.service_channel_kpis",
    "with a as (select * from marts.service_channel_kpis) select count(*) from a",
    "select fiscal_year, sum(cost) from marts.service_channel_kpis group by 1 order by 1",
    "select * from marts.a union all select * from marts.b",
    "select * from (select service_id from marts.service_channel_kpis) s",
]

REFUSED = {
    "DROP TABLE marts.service_channel_kpis": "DROP",
    "INSERT INTO marts.service_channel_kpis VALUES (1)": "INSERT",
    "COPY marts.service_channel_kpis TO '/tmp/x.csv'": "COPY",
    "select 1; select 2": "exactly one statement",
    "select 1; drop table marts.x": "exactly one statement",
    "delete from marts.service_channel_kpis": "DELETE",
    "update marts.service_channel_kpis set cost = 0": "UPDATE",
    "create table marts.x as select 1": "CREATE",
    "attach 'other.duckdb' as o": "ATTACH",
    "select * from read_csv('/etc/passwd')": "not allowed",
    "select * from '/etc/passwd'": "outside the allowed schemas",
    "select getenv('HOME')": "getenv",
    "select * from raw.queue_events": "outside the allowed schemas",
    "with x as (select * from read_parquet('s3://b/k')) select * from x": "not allowed",
    "select current_setting('threads')": "current_setting",
    "select * from duckdb_settings()": "not allowed",
    "install httpfs": "",
    "set threads = 1": "",
    "this is not sql at all (": "",
}


@pytest.mark.parametrize("sql", ALLOWED)
def test_selects_over_marts_pass(sql):
    guard(sql)


@pytest.mark.parametrize("sql, reason", REFUSED.items())
def test_everything_else_is_refused_with_a_reason(sql, reason):
    with pytest.raises(QueryRefused) as err:
        guard(sql)
    assert reason in str(err.value)
