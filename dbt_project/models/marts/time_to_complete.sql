-- Time to complete a service per fiscal year, service, channel and source, against the
-- service standard's target_days_to_complete where the catalogue has one. One build
-- replaces exactly the fiscal years it selects (delete+insert on fiscal_year).
--   online    (source web_sessions)  : completed sessions, ended_at - started_at;
--               completed sessions without a duration (no ended_at, or ended before
--               they started) are excluded from the quantiles and counted apart.
--   in_person (source queue_events)  : served tickets; time to complete = issued_at ->
--               completed_at (the whole visit), service time = called_at -> completed_at.
--   requests  (source = the 3-1-1 feed): days to close of closed requests, per channel,
--               source and agency, as marts.service_requests_summary computes them.
-- Quantiles are continuous (quantile_cont). Minutes and days give the same time.
with services as (
    select fiscal_year, service_id, service_name, target_days_to_complete
    from {{ ref('stg_services') }}
),

online as (
    select
        fiscal_year,
        service_id,
        'online' as channel,
        'web_sessions' as source,
        cast(null as varchar) as agency,
        count(session_minutes) as completions_measured,
        count(*) - count(session_minutes) as completions_without_duration,
        quantile_cont(session_minutes, 0.5) as median_minutes,
        quantile_cont(session_minutes, 0.9) as p90_minutes,
        cast(null as double) as median_service_minutes,
        cast(null as double) as p90_service_minutes
    from {{ ref('stg_web_sessions') }}
    where is_completed and service_id is not null
    group by fiscal_year, service_id
),

visits as (
    select
        fiscal_year,
        service_id,
        service_minutes,
        case
            when completed_at >= issued_at and called_at >= issued_at and completed_at >= called_at
                then epoch(completed_at - issued_at) / 60.0
        end as visit_minutes
    from {{ ref('stg_queue_events') }}
    where is_served and service_id is not null
),

in_person as (
    select
        fiscal_year,
        service_id,
        'in_person' as channel,
        'queue_events' as source,
        cast(null as varchar) as agency,
        count(visit_minutes) as completions_measured,
        count(*) - count(visit_minutes) as completions_without_duration,
        quantile_cont(visit_minutes, 0.5) as median_minutes,
        quantile_cont(visit_minutes, 0.9) as p90_minutes,
        quantile_cont(service_minutes, 0.5) as median_service_minutes,
        quantile_cont(service_minutes, 0.9) as p90_service_minutes
    from visits
    group by fiscal_year, service_id
),

requests as (
    select
        fiscal_year,
        service_id,
        channel,
        source,
        agency,
        closed as completions_measured,
        cast(0 as bigint) as completions_without_duration,
        median_days_to_close * 1440.0 as median_minutes,
        p90_days_to_close * 1440.0 as p90_minutes,
        cast(null as double) as median_service_minutes,
        cast(null as double) as p90_service_minutes
    from {{ ref('service_requests_summary') }}
    where channel <> 'all' and closed > 0 and {{ fiscal_year_filter('fiscal_year') }}
),

measured as (
    select * from online
    union all
    select * from in_person
    union all
    select * from requests
)

select
    cast(m.fiscal_year as integer) as fiscal_year,
    cast(m.service_id as varchar) as service_id,
    cast(m.channel as varchar) as channel,
    cast(m.source as varchar) as source,
    cast(m.agency as varchar) as agency,
    cast(s.service_name as varchar) as service_name,
    cast(m.completions_measured as bigint) as completions_measured,
    cast(m.completions_without_duration as bigint) as completions_without_duration,
    cast(m.median_minutes as double) as median_minutes,
    cast(m.p90_minutes as double) as p90_minutes,
    cast(m.median_minutes / 1440.0 as double) as median_days,
    cast(m.p90_minutes / 1440.0 as double) as p90_days,
    cast(m.median_service_minutes as double) as median_service_minutes,
    cast(m.p90_service_minutes as double) as p90_service_minutes,
    cast(s.target_days_to_complete as double) as target_days_to_complete,
    cast(m.median_minutes / 1440.0 <= s.target_days_to_complete as boolean) as is_median_within_target
from measured as m
left join services as s
    on s.fiscal_year = m.fiscal_year and s.service_id = m.service_id
where {{ fiscal_year_filter('m.fiscal_year') }}
