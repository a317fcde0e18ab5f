-- Web analytics aggregates (no session-level data): per property, report, day and
-- dimension value. Rolling-window reports are dated by the window's last day.
with source as (
    select * from {{ source('raw', 'web_traffic_daily') }}
    where {{ fiscal_year_filter('fiscal_year') }}
)

select
    cast(fiscal_year as integer) as fiscal_year,
    cast(row_id as varchar) as row_id,
    cast(_source as varchar) as source,
    cast(property as varchar) as property,
    cast(report as varchar) as report,
    cast(day as date) as day,
    cast(coalesce(period_days, 1) as integer) as period_days,
    coalesce(cast(dimension as varchar), 'total') as dimension,
    coalesce(cast(dimension_value as varchar), 'all') as dimension_value,
    cast(channel_group as varchar) as channel_group,
    cast(service_id as varchar) as service_id,
    cast(visits as bigint) as visits,
    cast(users as bigint) as users,
    cast(events as bigint) as events,
    cast(avg_session_seconds as double) as avg_session_seconds,
    cast(bounce_rate as double) as bounce_rate,
    cast(engagement_rate as double) as engagement_rate,
    cast(_load_id as varchar) as load_id
from source
