-- Aggregated wait-time observations from queue feeds (snapshots and time series), not
-- ticket events: each row is what a feed reported for a site and queue at one moment.
with source as (
    select * from {{ source('raw', 'wait_observations') }}
    where {{ fiscal_year_filter('fiscal_year') }}
)

select
    cast(fiscal_year as integer) as fiscal_year,
    cast(observation_id as varchar) as observation_id,
    cast(_source as varchar) as source,
    cast(site_id as varchar) as site_id,
    cast(site_name as varchar) as site_name,
    cast(region as varchar) as region,
    coalesce(cast(service_id as varchar), 'all') as queue,
    cast(observed_at as timestamp) as observed_at,
    lower(trim(cast(wait_kind as varchar))) as wait_kind,
    cast(wait_minutes as double) as wait_minutes,
    cast(customers_waiting as bigint) as customers_waiting,
    cast(customers_served as bigint) as customers_served,
    cast(open_counters as bigint) as open_counters,
    cast(mean_service_minutes as double) as mean_service_minutes,
    cast(_load_id as varchar) as load_id
from source
