"""The mart floor: `service_channel_kpis` of one fiscal year in one hand-written query.

It reads the raw tables straight from their Parquet data files (views named after the raw
tables: services, queue_events, web_sessions, survey_responses, service_requests,
ledger_entries) and computes the mart's measures by the rules of docs/raw_tables.md:
transactions per channel, cost apportionment (direct, shared centres by channel volume,
service common costs by the service's volume), take-up, completion, satisfaction and
waits. It leaves out what the demo data never holds (shared costs without a channel,
costs that cannot be apportioned). The same text runs on DuckDB and, with three
fragments swapped, on Spark SQL (the PySpark peer).
"""

from __future__ import annotations

DIALECTS = {
    "duckdb": {
        "minutes": "epoch({b} - {a}) / 60.0",
        "quantile": "quantile_cont({x}, {q})",
        "split_channels": "unnest(string_split({x}, ';'))",
    },
    "spark": {
        "minutes": "(unix_micros(cast({b} as timestamp)) - unix_micros(cast({a} as timestamp))) / 60000000.0",
        "quantile": "percentile({x}, {q})",
        "split_channels": "explode(split({x}, ';'))",
    },
}

TEMPLATE = """
with svc as (
    select service_id, name as service_name, priority_area, cofog_division, agency, channels,
           target_wait_minutes
    from services
    where fiscal_year = {year} and service_id is not null
),
offered as (
    select distinct service_id, channel
    from (select service_id, lower(trim(part)) as channel
          from (select service_id, {split_channels} as part from svc) as parts) as s
    where channel <> ''
),
queue as (
    select service_id, outcome,
           case when called_at >= issued_at then {minutes} end as wait_minutes
    from queue_events
    where fiscal_year = {year} and service_id is not null
),
in_person as (
    select q.service_id,
           count(*) filter (where q.outcome = 'served') as transactions,
           count(q.wait_minutes) filter (where q.outcome = 'served') as waits_measured,
           avg(q.wait_minutes) filter (where q.outcome = 'served') as mean_wait_minutes,
           {q50} filter (where q.outcome = 'served') as median_wait_minutes,
           {q90} filter (where q.outcome = 'served') as p90_wait_minutes,
           count(*) filter (where q.outcome = 'served' and q.wait_minutes <= s.target_wait_minutes) as within_standard,
           max(s.target_wait_minutes) as target_wait_minutes
    from queue as q
    left join svc as s on s.service_id = q.service_id
    group by q.service_id
),
online as (
    select service_id,
           count(*) filter (where coalesce(completed, false)) as transactions,
           count(*) filter (where not coalesce(last_step = 'start', false)) as started,
           count(*) filter (where coalesce(completed, false) and not coalesce(last_step = 'start', false)) as completions
    from web_sessions
    where fiscal_year = {year} and service_id is not null
    group by service_id
),
requests as (
    select service_id, channel, count(*) filter (where status = 'closed') as transactions
    from service_requests
    where fiscal_year = {year} and service_id is not null and channel is not null
      and channel not in ('online', 'in_person')
    group by service_id, channel
),
tx as (
    select service_id, 'online' as channel, transactions, started, completions from online
    union all
    select service_id, 'in_person' as channel, transactions, cast(null as bigint), cast(null as bigint) from in_person
    union all
    select service_id, channel, transactions, cast(null as bigint), cast(null as bigint) from requests
),
entries as (
    select service_id,
           coalesce(channel, case when service_id is null and cost_centre = 'SHARED-IT' then 'online'
                                  when service_id is null and cost_centre = 'SHARED-CONTACT-CENTRE' then 'phone'
                                  when service_id is null and cost_centre = 'SHARED-BUILDINGS' then 'in_person' end) as channel,
           amount
    from ledger_entries
    where fiscal_year = {year} and phase = 'executed' and amount is not null
      and economic_class is distinct from 'fee_revenue'  -- fees collected are not a cost
),
channel_totals as (select channel, sum(transactions) as n from tx group by channel),
service_totals as (select service_id, sum(transactions) as n from tx group by service_id),
cost_parts as (
    select service_id, channel, amount
    from entries where service_id is not null and channel is not null
    union all
    select tx.service_id, p.channel, p.amount * tx.transactions / ct.n
    from (select channel, sum(amount) as amount from entries
          where service_id is null and channel is not null group by channel) as p
    join channel_totals as ct on ct.channel = p.channel
    join tx on tx.channel = p.channel
    where ct.n > 0
    union all
    select p.service_id, tx.channel, p.amount * tx.transactions / st.n
    from (select service_id, sum(amount) as amount from entries
          where service_id is not null and channel is null group by service_id) as p
    join service_totals as st on st.service_id = p.service_id
    join tx on tx.service_id = p.service_id
    where st.n > 0
),
costs as (select service_id, channel, sum(amount) as cost from cost_parts group by service_id, channel),
service_costs as (select service_id, sum(cost) as cost from costs group by service_id),
answers as (
    select service_id, channel, case when satisfaction between 1 and 5 then satisfaction end as sat
    from survey_responses
    where fiscal_year = {year} and service_id is not null
),
sat as (
    select service_id, channel,
           count(sat) as responses,
           count(*) - count(sat) as responses_dont_know,
           count(*) filter (where sat = 1) as score_1,
           count(*) filter (where sat = 2) as score_2,
           count(*) filter (where sat = 3) as score_3,
           count(*) filter (where sat = 4) as score_4,
           count(*) filter (where sat = 5) as score_5,
           case when count(sat) > 0 then count(*) filter (where sat >= 4) / count(sat) end as top2,
           (avg(sat) - 1) / 4.0 as score
    from (select service_id, channel, sat from answers where channel is not null
          union all
          select service_id, 'all' as channel, sat from answers) as a
    group by service_id, channel
),
keys as (
    select service_id, channel from offered
    union select service_id, channel from tx
    union select service_id, channel from costs where channel is not null
    union select service_id, channel from sat where channel <> 'all'
),
channel_rows as (
    select k.service_id, k.channel, o.channel is not null as is_channel_offered,
           coalesce(t.transactions, 0) as transactions,
           cast(null as bigint) as digital_transactions,
           case when k.channel = 'online' then coalesce(t.started, 0) end as started,
           case when k.channel = 'online' then coalesce(t.completions, 0) end as completions,
           coalesce(c.cost, 0.0) as cost
    from keys as k
    join svc as s on s.service_id = k.service_id
    left join offered as o on o.service_id = k.service_id and o.channel = k.channel
    left join tx as t on t.service_id = k.service_id and t.channel = k.channel
    left join costs as c on c.service_id = k.service_id and c.channel = k.channel
),
total_rows as (
    select s.service_id, 'all' as channel, true as is_channel_offered,
           coalesce(sum(r.transactions), 0) as transactions,
           coalesce(sum(r.transactions) filter (where r.channel in ('online', 'mobile')), 0) as digital_transactions,
           sum(r.started) filter (where r.channel = 'online') as started,
           sum(r.completions) filter (where r.channel = 'online') as completions,
           coalesce(max(sc.cost), 0.0) as cost
    from svc as s
    left join channel_rows as r on r.service_id = s.service_id
    left join service_costs as sc on sc.service_id = s.service_id
    group by s.service_id
),
all_rows as (
    select * from channel_rows
    union all
    select * from total_rows
)
select
    {year} as fiscal_year, r.service_id, r.channel, s.service_name, s.priority_area, s.cofog_division,
    s.agency, r.is_channel_offered, r.transactions, r.started, r.completions, r.cost,
    case when r.transactions > 0 then r.cost / r.transactions end as cost_per_transaction,
    case when r.channel = 'all' and r.transactions > 0 then r.digital_transactions / r.transactions end as digital_take_up,
    case when r.started > 0 then least(r.completions / r.started, 1.0) end as completion_rate,
    coalesce(a.responses, 0) as responses,
    coalesce(a.responses_dont_know, 0) as responses_dont_know,
    coalesce(a.score_1, 0) as responses_score_1,
    coalesce(a.score_2, 0) as responses_score_2,
    coalesce(a.score_3, 0) as responses_score_3,
    coalesce(a.score_4, 0) as responses_score_4,
    coalesce(a.score_5, 0) as responses_score_5,
    a.top2 as satisfaction_top2_pct,
    a.score as satisfaction_score,
    case when r.channel in ('in_person', 'all') then w.waits_measured end as waits_measured,
    case when r.channel in ('in_person', 'all') then w.mean_wait_minutes end as mean_wait_minutes,
    case when r.channel in ('in_person', 'all') then w.median_wait_minutes end as median_wait_minutes,
    case when r.channel in ('in_person', 'all') then w.p90_wait_minutes end as p90_wait_minutes,
    s.target_wait_minutes,
    case when r.channel in ('in_person', 'all') and s.target_wait_minutes is not null and w.waits_measured > 0
         then w.within_standard / w.waits_measured end as share_within_wait_standard
from all_rows as r
join svc as s on s.service_id = r.service_id
left join sat as a on a.service_id = r.service_id and a.channel = r.channel
left join in_person as w on w.service_id = r.service_id
"""

RAW_TABLES = ("services", "queue_events", "web_sessions", "survey_responses", "service_requests", "ledger_entries")


def kpis_sql(year: int, dialect: str = "duckdb") -> str:
    d = DIALECTS[dialect]
    return TEMPLATE.format(
        year=int(year),
        minutes=d["minutes"].format(a="issued_at", b="called_at"),
        q50=d["quantile"].format(x="q.wait_minutes", q="0.5"),
        q90=d["quantile"].format(x="q.wait_minutes", q="0.9"),
        split_channels=d["split_channels"].format(x="coalesce(channels, '')"),
    )


def data_files(catalog, year: int) -> dict[str, list[str]]:
    """The Parquet data files of each raw table for one fiscal year (planned by pyiceberg)."""
    from urllib.parse import urlparse

    from pyiceberg.expressions import EqualTo

    files: dict[str, list[str]] = {}
    for name in RAW_TABLES:
        table = catalog.load_table(f"raw.{name}")
        paths = [t.file.file_path for t in table.scan(row_filter=EqualTo("fiscal_year", year)).plan_files()]
        files[name] = [urlparse(p).path if p.startswith("file:") else p for p in paths]
    return files
