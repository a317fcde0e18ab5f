-- Web analytics per fiscal year, feed, property, report and breakdown (a traffic source
-- within its channel group: google's Organic Search and Paid Search rows stay apart): visits and users
-- summed over the days (or windows) reported; session duration, bounce and engagement
-- rates averaged weighted by visits (a rate without visits is averaged unweighted).
select
    cast(fiscal_year as integer) as fiscal_year,
    cast(source as varchar) as source,
    cast(property as varchar) as property,
    cast(report as varchar) as report,
    cast(dimension as varchar) as dimension,
    cast(dimension_value as varchar) as dimension_value,
    cast(max(period_days) as integer) as period_days,
    cast(count(distinct day) as bigint) as days_reported,
    cast(min(day) as date) as first_day,
    cast(max(day) as date) as last_day,
    cast(sum(visits) as bigint) as visits,
    cast(sum(users) as bigint) as users,
    cast(sum(events) as bigint) as events,
    cast(coalesce(
        sum(avg_session_seconds * visits) / nullif(sum(visits) filter (where avg_session_seconds is not null), 0),
        avg(avg_session_seconds)
    ) as double) as avg_session_seconds,
    cast(coalesce(
        sum(bounce_rate * visits) / nullif(sum(visits) filter (where bounce_rate is not null), 0),
        avg(bounce_rate)
    ) as double) as bounce_rate,
    cast(coalesce(
        sum(engagement_rate * visits) / nullif(sum(visits) filter (where engagement_rate is not null), 0),
        avg(engagement_rate)
    ) as double) as engagement_rate,
    cast(channel_group as varchar) as channel_group
from {{ ref('stg_web_traffic_daily') }}
group by fiscal_year, source, property, report, dimension, dimension_value, channel_group
