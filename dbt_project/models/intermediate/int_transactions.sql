-- Completed transactions (and, online, started sessions) per fiscal year, service and
-- channel, by the rules of docs/raw_tables.md:
--   online    : web sessions with completed = true
--   in_person : queue tickets with outcome = 'served'
--   any other : service requests with status = 'closed' in that channel; requests in
--               the online or in_person channel are not counted again (the web session
--               or the queue ticket is the transaction); requests without a channel are
--               not counted.
--   aggregated: where a source publishes only volumes (service inventories), the
--               `application` volume per service and channel; used for a (year,
--               service, channel) only when no event-level source counted it, so a
--               service is never counted twice. Phone enquiries and website visits are
--               not transactions.
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
    where
        channel is not null
        and channel not in ('online', 'in_person')
    group by fiscal_year, service_id, channel
),

events as (
    select * from online
    union all
    select * from in_person
    union all
    select * from requests
),

aggregated as (
    select
        fiscal_year,
        service_id,
        channel,
        cast(round(sum(volume)) as bigint) as transactions,
        cast(null as bigint) as started,
        cast(null as bigint) as completions
    from {{ ref('stg_service_transactions') }}
    where is_transaction and volume is not null
    group by fiscal_year, service_id, channel
),

unioned as (
    select * from events
    union all
    select a.*
    from aggregated as a
    anti join events as e
        on e.fiscal_year = a.fiscal_year and e.service_id = a.service_id and e.channel = a.channel
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
