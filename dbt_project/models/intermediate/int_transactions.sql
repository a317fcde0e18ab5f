-- Completed transactions (and, online, started sessions) per fiscal year, service and
-- channel, by the rules of docs/raw_tables.md:
--   online    : web sessions with completed = true
--   in_person : queue tickets with outcome = 'served'
--   any other : service requests with status = 'closed' in that channel; requests in
--               the online or in_person channel are not counted again (the web session
--               or the queue ticket is the transaction); requests without a channel are
--               not counted.
-- started = online sessions that are not bounces (last step `start`); completions =
-- started sessions that completed, so completion rate = completions / started <= 1.
with online as (
    select
        fiscal_year,
        service_id,
        'online' as channel,
        count(*) filter (where is_completed) as transactions,
        count(*) filter (where is_started) as started,
        count(*) filter (where is_started and is_completed) as completions
    from {{ ref('stg_web_sessions') }}
    group by fiscal_year, service_id
),

in_person as (
    select
        fiscal_year,
        service_id,
        'in_person' as channel,
        count(*) filter (where is_served) as transactions,
        cast(null as bigint) as started,
        cast(null as bigint) as completions
    from {{ ref('stg_queue_events') }}
    group by fiscal_year, service_id
),

requests as (
    select
        fiscal_year,
        service_id,
        channel,
        count(*) filter (where is_closed) as transactions,
        cast(null as bigint) as started,
        cast(null as bigint) as completions
    from {{ ref('stg_service_requests') }}
    where channel is not null
      and channel not in ('online', 'in_person')
    group by fiscal_year, service_id, channel
),

unioned as (
    select * from online
    union all
    select * from in_person
    union all
    select * from requests
)

select
    cast(fiscal_year as integer) as fiscal_year,
    service_id,
    channel,
    cast(transactions as bigint) as transactions,
    cast(started as bigint) as started,
    cast(completions as bigint) as completions
from unioned
where service_id is not null
