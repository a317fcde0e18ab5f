-- Published KPIs beside the figures we compute, with the difference. Every published
-- observation is a row (value null where the publisher marks it not available).
-- Computed beside it where both exist:
--   user_satisfaction: from the publisher's own five-level response counts of the same
--     period (int_published_satisfaction): top-2 box % and the weighted mean %; the
--     difference is published - top-2 box, and `closest_method` says which of the two
--     the published figure is nearer to (publishers change method over time).
--   digital_take_up, cost_per_transaction, completion_rate, user_satisfaction of a
--     service that is also in marts.service_channel_kpis (same service_id and fiscal
--     year, a yearly published figure): our computed yearly value. Percentages are 0..100.
with published as (
    select *
    from {{ ref('stg_kpi_observations') }}
    where kpi <> 'satisfaction_responses'
),

from_counts as (
    select * from {{ ref('int_published_satisfaction') }}
),

ours as (
    select
        fiscal_year, service_id,
        100.0 * digital_take_up as digital_take_up,
        cost_per_transaction,
        100.0 * completion_rate as completion_rate,
        100.0 * satisfaction_top2_pct as user_satisfaction
    from {{ ref('service_channel_kpis') }}
    where channel = 'all'
),

joined as (
    select
        p.*,
        c.top2_pct,
        c.weighted_mean_pct,
        c.responses as computed_from_responses,
        case
            when p.kpi = 'user_satisfaction' and c.top2_pct is not null then c.top2_pct
            when p.period = 'year' and p.kpi = 'digital_take_up' then o.digital_take_up
            when p.period = 'year' and p.kpi = 'cost_per_transaction' then o.cost_per_transaction
            when p.period = 'year' and p.kpi = 'completion_rate' then o.completion_rate
            when p.period = 'year' and p.kpi = 'user_satisfaction' then o.user_satisfaction
        end as computed_value,
        case
            when p.kpi = 'user_satisfaction' and c.top2_pct is not null then 'response_counts_top2'
            when
                p.period = 'year' and o.service_id is not null
                and p.kpi in ('digital_take_up', 'cost_per_transaction', 'completion_rate', 'user_satisfaction')
                then 'service_channel_kpis'
        end as computed_from
    from published as p
    left join from_counts as c
        on
            p.kpi = 'user_satisfaction'
            and c.publisher = p.publisher and c.service_id = p.service_id
            and c.channel = coalesce(p.channel, 'all') and c.period_start = p.period_start
    left join ours as o
        on p.period = 'year' and o.fiscal_year = p.fiscal_year and o.service_id = p.service_id
)

select
    cast(fiscal_year as integer) as fiscal_year,
    cast(publisher as varchar) as publisher,
    cast(service_id as varchar) as service_id,
    cast(service_name as varchar) as service_name,
    cast(kpi as varchar) as kpi,
    cast(channel as varchar) as channel,
    cast(period as varchar) as period,
    cast(period_start as date) as period_start,
    cast(unit as varchar) as unit,
    cast(value as double) as published_value,
    cast(computed_value as double) as computed_value,
    cast(computed_from as varchar) as computed_from,
    cast(value - computed_value as double) as difference,
    cast(weighted_mean_pct as double) as computed_weighted_mean_pct,
    cast(computed_from_responses as double) as computed_from_responses,
    cast(case
        when value is null or top2_pct is null or weighted_mean_pct is null then null
        when abs(value - top2_pct) < abs(value - weighted_mean_pct) then 'top2_box'
        when abs(value - top2_pct) > abs(value - weighted_mean_pct) then 'weighted_mean'
        else 'either'
    end as varchar) as closest_method,
    cast(observation_id as varchar) as observation_id,
    cast(source as varchar) as source
from joined
