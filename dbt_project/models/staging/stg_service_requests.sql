-- 3-1-1 style service requests on every channel.
with source as (
    select * from {{ source('raw', 'service_requests') }}
    where {{ fiscal_year_filter('fiscal_year') }}
),

typed as (
    select
        cast(fiscal_year as integer) as fiscal_year,
        cast(request_id as varchar) as request_id,
        cast(service_id as varchar) as service_id,
        nullif(lower(trim(cast(channel as varchar))), '') as channel,
        cast(requested_at as timestamp) as requested_at,
        cast(closed_at as timestamp) as closed_at,
        cast(expected_at as timestamp) as expected_at,
        lower(trim(cast(status as varchar))) as status,
        cast(agency as varchar) as agency,
        cast(location as varchar) as location,
        nullif(trim(cast(area as varchar)), '') as area,
        cast(_source as varchar) as source,
        cast(_load_id as varchar) as load_id,
        cast(_source_file as varchar) as source_file
    from source
)

select
    fiscal_year,
    request_id,
    service_id,
    channel,
    requested_at,
    closed_at,
    expected_at,
    status,
    coalesce(status = 'closed', false) as is_closed,
    case
        when closed_at >= requested_at
            then epoch(closed_at - requested_at) / 86400.0
    end as days_to_close,
    case
        when closed_at is not null and expected_at is not null
            then closed_at <= expected_at
    end as is_closed_within_sla,
    agency,
    location,
    area,
    source,
    load_id,
    source_file
from typed
