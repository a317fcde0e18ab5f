-- Waits from aggregated queue feeds (no ticket events): per fiscal year, feed, site,
-- queue and kind of figure, the mean, median, p90 (continuous) and maximum of the waits
-- the feed reported, and the share of observations at or under 15 and 30 minutes.
-- Observations without a wait (site closed) are counted apart and not averaged.
select
    cast(fiscal_year as integer) as fiscal_year,
    cast(source as varchar) as source,
    cast(site_id as varchar) as site_id,
    cast(any_value(site_name) as varchar) as site_name,
    cast(any_value(region) as varchar) as region,
    cast(queue as varchar) as queue,
    cast(wait_kind as varchar) as wait_kind,
    cast(count(*) as bigint) as observations,
    cast(count(wait_minutes) as bigint) as waits_reported,
    cast(min(observed_at) as timestamp) as first_observed_at,
    cast(max(observed_at) as timestamp) as last_observed_at,
    cast(avg(wait_minutes) as double) as mean_wait_minutes,
    cast(quantile_cont(wait_minutes, 0.5) as double) as median_wait_minutes,
    cast(quantile_cont(wait_minutes, 0.9) as double) as p90_wait_minutes,
    cast(max(wait_minutes) as double) as max_wait_minutes,
    cast(avg(case when wait_minutes <= 15 then 1.0 when wait_minutes is not null then 0.0 end) as double)
        as share_within_15_minutes,
    cast(avg(case when wait_minutes <= 30 then 1.0 when wait_minutes is not null then 0.0 end) as double)
        as share_within_30_minutes
from {{ ref('stg_wait_observations') }}
group by fiscal_year, source, site_id, queue, wait_kind
