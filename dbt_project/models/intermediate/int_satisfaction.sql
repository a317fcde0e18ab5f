-- Satisfaction per fiscal year, service and channel (the survey's channel), and per
-- service over all responses (channel 'all', including responses without a channel).
-- "Don't know" (satisfaction null) is excluded from every rate and counted apart.
--   satisfaction_top2_pct = answers 4 or 5 / answers 1..5
--   satisfaction_score    = (mean answer - 1) / 4, in 0..1
with responses as (
    select fiscal_year, service_id, channel, satisfaction, is_answered, is_top2
    from {{ ref('stg_survey_responses') }}
    where service_id is not null
),

by_channel as (
    select fiscal_year, service_id, channel, satisfaction, is_answered, is_top2
    from responses
    where channel is not null
    union all
    select fiscal_year, service_id, 'all' as channel, satisfaction, is_answered, is_top2
    from responses
)

select
    cast(fiscal_year as integer) as fiscal_year,
    service_id,
    channel,
    cast(count(*) filter (where is_answered) as bigint) as responses,
    cast(count(*) filter (where not is_answered) as bigint) as responses_dont_know,
    cast(count(*) filter (where satisfaction = 1) as bigint) as responses_score_1,
    cast(count(*) filter (where satisfaction = 2) as bigint) as responses_score_2,
    cast(count(*) filter (where satisfaction = 3) as bigint) as responses_score_3,
    cast(count(*) filter (where satisfaction = 4) as bigint) as responses_score_4,
    cast(count(*) filter (where satisfaction = 5) as bigint) as responses_score_5,
    case
        when count(*) filter (where is_answered) > 0
            then count(*) filter (where is_answered and is_top2) / count(*) filter (where is_answered)
    end as satisfaction_top2_pct,
    (avg(satisfaction) - 1) / 4.0 as satisfaction_score
from by_channel
group by fiscal_year, service_id, channel
