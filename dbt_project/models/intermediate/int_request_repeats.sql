-- One row per 3-1-1 request: its week of the fiscal year, its coarse area and whether it
-- repeats an earlier request (marts.request_workload, marts.request_hot_spots).
--   week_of_year   : 1 + floor(days since the fiscal year started / 7); week 53 holds the
--                    year's last one or two days
--   repeat request : a request of the same feed, service and location (pseudonymised at
--                    ingestion) made at most var repeat_window_days (7) days after the
--                    previous one of the same fiscal year. The location is not kept here.
{%- set window_days = var('repeat_window_days', 7) %}
with requests as (
    select
        fiscal_year,
        coalesce(source, 'landing') as source,
        coalesce(service_id, 'unmapped') as service_id,
        location,
        area,
        requested_at
    from {{ ref('stg_service_requests') }}
    where requested_at is not null
)

select
    cast(fiscal_year as integer) as fiscal_year,
    cast(source as varchar) as source,
    cast(service_id as varchar) as service_id,
    cast(area as varchar) as area,
    cast(
        1 + floor(epoch(requested_at - {{ fiscal_year_end('fiscal_year - 1') }}) / 604800) as integer
    ) as week_of_year,
    coalesce(
        location is not null
        and requested_at - lag(requested_at) over (
            partition by fiscal_year, source, service_id, location order by requested_at
        ) <= interval '{{ window_days }} days',
        false
    ) as is_repeat
from requests
