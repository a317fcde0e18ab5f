-- 3-1-1 service requests per fiscal year, feed, agency, service and channel (channel 'all' =
-- every channel of that agency and service). Two cities' feeds are never summed: `source`. The requests of a fiscal year are those
-- requested in it (raw.service_requests is partitioned by requested_at).
--   closed              : status 'closed'
--   days to close       : closed_at - requested_at in days, over closed requests (median and
--                         p90 continuous)
--   within SLA          : closed requests closed at or before expected_at / closed requests
--                         that have both times (a fraction 0..1)
--   backlog at year end : requests of the year not closed by the end of the fiscal year
--                         (still open, or closed after the year ended). Requests carried
--                         over from earlier years are counted in their own year.
-- Agency: the request's agency, else the service's agency, else 'unknown'. A request
-- without a service is kept under service_id 'unmapped'; a channel outside the channel
-- vocabulary is counted as 'other'.
with services as (
    select fiscal_year, service_id, service_name, agency, target_days_to_complete
    from {{ ref('stg_services') }}
),

requests as (
    select
        r.fiscal_year,
        coalesce(r.source, 'landing') as source,
        coalesce(r.agency, s.agency, 'unknown') as agency,
        coalesce(r.service_id, 'unmapped') as service_id,
        case
            when r.channel in ('online', 'mobile', 'phone', 'in_person', 'mail', 'email', 'fax', 'other')
                then r.channel
            else 'other'
        end as channel,
        r.is_closed,
        case when r.is_closed then r.days_to_close end as days_to_close,
        case when r.is_closed then r.is_closed_within_sla end as is_closed_within_sla,
        not r.is_closed or (r.closed_at is not null and r.closed_at >= {{ fiscal_year_end('r.fiscal_year') }})
            as is_open_at_year_end
    from {{ ref('stg_service_requests') }} as r
    left join services as s
        on s.fiscal_year = r.fiscal_year and s.service_id = r.service_id
),

by_channel as (
    select fiscal_year, source, agency, service_id, channel, is_closed, days_to_close, is_closed_within_sla, is_open_at_year_end
    from requests
    union all
    select fiscal_year, source, agency, service_id, 'all' as channel, is_closed, days_to_close, is_closed_within_sla, is_open_at_year_end
    from requests
),

summary as (
    select
        fiscal_year,
        source,
        agency,
        service_id,
        channel,
        count(*) as requests,
        count(*) filter (where is_closed) as closed,
        quantile_cont(days_to_close, 0.5) as median_days_to_close,
        quantile_cont(days_to_close, 0.9) as p90_days_to_close,
        count(is_closed_within_sla) as closed_with_sla,
        count(*) filter (where is_closed_within_sla) as closed_within_sla,
        count(*) filter (where is_open_at_year_end) as backlog_at_year_end
    from by_channel
    group by fiscal_year, source, agency, service_id, channel
)

select
    cast(m.fiscal_year as integer) as fiscal_year,
    cast(m.agency as varchar) as agency,
    cast(m.service_id as varchar) as service_id,
    cast(m.channel as varchar) as channel,
    cast(s.service_name as varchar) as service_name,
    cast(m.requests as bigint) as requests,
    cast(m.closed as bigint) as closed,
    cast(m.median_days_to_close as double) as median_days_to_close,
    cast(m.p90_days_to_close as double) as p90_days_to_close,
    cast(s.target_days_to_complete as double) as target_days_to_complete,
    cast(m.closed_with_sla as bigint) as closed_with_sla,
    cast(m.closed_within_sla as bigint) as closed_within_sla,
    cast(case when m.closed_with_sla > 0 then m.closed_within_sla / m.closed_with_sla end as double)
        as within_sla_pct,
    cast(m.backlog_at_year_end as bigint) as backlog_at_year_end,
    cast(m.source as varchar) as source,
    cast(case when m.closed_with_sla > 0 then m.closed_within_sla / m.closed_with_sla end as double)
        as within_sla_share
from summary as m
left join services as s
    on s.fiscal_year = m.fiscal_year and s.service_id = m.service_id
where {{ fiscal_year_filter('m.fiscal_year') }}
