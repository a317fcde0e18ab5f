-- User satisfaction recomputed from the response counts a publisher also publishes
-- (five levels, e.g. the UK OPG feeds), per publisher, service, channel and period:
--   top-2 box %      = 100 * (satisfied + very satisfied) / all responses
--   weighted mean %  = mean of the levels scored 0, 25, 50, 75, 100
-- Levels are matched on their names (very-dissatisfied, dissatisfied, neither,
-- satisfied, very-satisfied; `_` or spaces instead of `-` are accepted).
with counts as (
    select
        fiscal_year,
        publisher,
        service_id,
        coalesce(channel, 'all') as channel,
        period_start,
        replace(replace(lower(trim(dimension)), '_', '-'), ' ', '-') as level,
        value as responses
    from {{ ref('stg_kpi_observations') }}
    where kpi = 'satisfaction_responses' and value is not null
),

scored as (
    select
        *,
        case level
            when 'very-dissatisfied' then 0
            when 'dissatisfied' then 25
            when 'neither' then 50
            when 'neither-satisfied-nor-dissatisfied' then 50
            when 'satisfied' then 75
            when 'very-satisfied' then 100
        end as level_score
    from counts
)

select
    fiscal_year,
    publisher,
    service_id,
    channel,
    period_start,
    sum(responses) as responses,
    count(distinct level) as levels,
    100.0 * sum(responses) filter (where level_score >= 75) / nullif(sum(responses), 0) as top2_pct,
    sum(responses * level_score) / nullif(sum(responses), 0) as weighted_mean_pct
from scored
where level_score is not null
group by fiscal_year, publisher, service_id, channel, period_start
