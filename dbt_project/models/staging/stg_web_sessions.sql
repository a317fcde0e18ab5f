-- Web analytics sessions of online services. A session whose last step is `start` is a
-- bounce and does not count as started (docs/raw_tables.md).
with source as (
    select * from {{ source('raw', 'web_sessions') }}
    where {{ fiscal_year_filter('fiscal_year') }}
),

typed as (
    select
        cast(fiscal_year as integer) as fiscal_year,
        cast(session_id as varchar) as session_id,
        cast(service_id as varchar) as service_id,
        cast(started_at as timestamp) as started_at,
        cast(ended_at as timestamp) as ended_at,
        coalesce(cast(completed as boolean), false) as is_completed,
        lower(trim(cast(last_step as varchar))) as last_step,
        cast(fee_amount as double) as fee_amount,
        lower(trim(cast(device_category as varchar))) as device_category,
        lower(trim(cast(channel_group as varchar))) as channel_group,
        cast(_load_id as varchar) as load_id,
        cast(_source_file as varchar) as source_file
    from source
)

select
    fiscal_year,
    session_id,
    service_id,
    started_at,
    ended_at,
    is_completed,
    last_step,
    coalesce(last_step = 'start', false) as is_bounce,
    not coalesce(last_step = 'start', false) as is_started,
    case
        when ended_at >= started_at
            then epoch(ended_at - started_at) / 60.0
    end as session_minutes,
    fee_amount,
    device_category,
    channel_group,
    load_id,
    source_file
from typed
