-- Perceived waits per fiscal year and service: survey respondents' perceived wait
-- (perceived_wait_minutes, any channel; responses without it are not counted), against
-- the service's wait standard (target_wait_minutes of that year's services snapshot).
with responses as (
    select fiscal_year, service_id, perceived_wait_minutes
    from {{ ref('stg_survey_responses') }}
    where
        service_id is not null
        and perceived_wait_minutes is not null
        and perceived_wait_minutes >= 0
),

targets as (
    select fiscal_year, service_id, target_wait_minutes
    from {{ ref('stg_services') }}
)

select
    cast(r.fiscal_year as integer) as fiscal_year,
    r.service_id,
    cast(count(*) as bigint) as perceived_wait_responses,
    cast(avg(r.perceived_wait_minutes) as double) as perceived_mean_wait_minutes,
    cast(quantile_cont(r.perceived_wait_minutes, 0.5) as double) as perceived_median_wait_minutes,
    cast(case
        when any_value(t.target_wait_minutes) is not null
            then count(*) filter (where r.perceived_wait_minutes <= t.target_wait_minutes) / count(*)
    end as double) as perceived_within_standard_share
from responses as r
left join targets as t
    on t.fiscal_year = r.fiscal_year and t.service_id = r.service_id
group by r.fiscal_year, r.service_id
