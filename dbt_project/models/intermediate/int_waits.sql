-- In-person waits per fiscal year and service, over served tickets with a measured wait
-- (outcome served, called_at not null). Median and p90 are continuous (interpolated)
-- quantiles. share_within_wait_standard = share of those customers whose wait was at
-- most the service's target wait (null when the service has no target).
with waits as (
    select fiscal_year, service_id, wait_minutes
    from {{ ref('stg_queue_events') }}
    where
        is_served
        and wait_minutes is not null
),

targets as (
    select fiscal_year, service_id, target_wait_minutes
    from {{ ref('stg_services') }}
)

select
    cast(w.fiscal_year as integer) as fiscal_year,
    w.service_id,
    cast(count(*) as bigint) as waits_measured,
    avg(w.wait_minutes) as mean_wait_minutes,
    quantile_cont(w.wait_minutes, 0.5) as median_wait_minutes,
    quantile_cont(w.wait_minutes, 0.9) as p90_wait_minutes,
    any_value(t.target_wait_minutes) as target_wait_minutes,
    case
        when any_value(t.target_wait_minutes) is not null
            then count(*) filter (where w.wait_minutes <= t.target_wait_minutes) / count(*)
    end as share_within_wait_standard
from waits as w
left join targets as t
    on t.fiscal_year = w.fiscal_year and t.service_id = w.service_id
where w.service_id is not null
group by w.fiscal_year, w.service_id
