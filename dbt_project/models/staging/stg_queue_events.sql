-- Queue tickets from device feeds, with wait and service time in minutes.
-- Wait = called_at - issued_at; service time = completed_at - called_at
-- (null when a timestamp is missing or the difference is negative).
with source as (
    select * from {{ source('raw', 'queue_events') }}
    where {{ fiscal_year_filter('fiscal_year') }}
),

typed as (
    select
        cast(fiscal_year as integer) as fiscal_year,
        cast(ticket_id as varchar) as ticket_id,
        cast(site_id as varchar) as site_id,
        cast(service_id as varchar) as service_id,
        cast(issued_at as timestamp) as issued_at,
        cast(called_at as timestamp) as called_at,
        cast(completed_at as timestamp) as completed_at,
        lower(trim(cast(outcome as varchar))) as outcome,
        cast(device_id as varchar) as device_id,
        cast(_load_id as varchar) as load_id,
        cast(_source_file as varchar) as source_file
    from source
)

select
    fiscal_year,
    ticket_id,
    site_id,
    service_id,
    issued_at,
    called_at,
    completed_at,
    outcome,
    device_id,
    case
        when called_at >= issued_at
            then epoch(called_at - issued_at) / 60.0
    end as wait_minutes,
    case
        when completed_at >= called_at
            then epoch(completed_at - called_at) / 60.0
    end as service_minutes,
    coalesce(outcome = 'served', false) as is_served,
    called_at is null as left_before_called,
    load_id,
    source_file
from typed
