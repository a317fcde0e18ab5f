-- Perceived vs measured, per fiscal year and service: the wait survey respondents report
-- (int_perceived_waits) beside the wait the queue devices measured, and satisfaction beside
-- the measured outcomes it should reflect (waits within the standard, online completion).
--   wait_perception_gap_minutes = perceived mean wait - measured mean wait
--   wait_perception_ratio       = perceived mean wait / measured mean wait
-- Every service of the year's snapshot has a row; a side is null where it was not measured.
with kpis as (
    select *
    from {{ ref('service_channel_kpis') }}
    where {{ fiscal_year_filter('fiscal_year') }}
),

totals as (
    select * from kpis
    where channel = 'all'
),

perceived as (
    select *
    from {{ ref('int_perceived_waits') }}
    where {{ fiscal_year_filter('fiscal_year') }}
)

select
    cast(t.fiscal_year as integer) as fiscal_year,
    cast(t.service_id as varchar) as service_id,
    cast(t.service_name as varchar) as service_name,
    cast(coalesce(p.perceived_wait_responses, 0) as bigint) as perceived_wait_responses,
    cast(p.perceived_mean_wait_minutes as double) as perceived_mean_wait_minutes,
    cast(p.perceived_median_wait_minutes as double) as perceived_median_wait_minutes,
    cast(t.waits_measured as bigint) as waits_measured,
    cast(t.mean_wait_minutes as double) as measured_mean_wait_minutes,
    cast(t.median_wait_minutes as double) as measured_median_wait_minutes,
    cast(p.perceived_mean_wait_minutes - t.mean_wait_minutes as double) as wait_perception_gap_minutes,
    cast(case
        when t.mean_wait_minutes > 0
            then p.perceived_mean_wait_minutes / t.mean_wait_minutes
    end as double) as wait_perception_ratio,
    cast(t.target_wait_minutes as double) as target_wait_minutes,
    cast(p.perceived_within_standard_share as double) as perceived_within_standard_share,
    cast(t.share_within_wait_standard as double) as measured_within_standard_share,
    cast(t.responses as bigint) as satisfaction_responses,
    cast(t.satisfaction_top2_pct as double) as satisfaction_top2_pct,
    cast(t.satisfaction_score as double) as satisfaction_score,
    cast(ip.satisfaction_top2_pct as double) as in_person_satisfaction_top2_pct,
    cast(ol.satisfaction_top2_pct as double) as online_satisfaction_top2_pct,
    cast(t.completion_rate as double) as completion_rate,
    cast(t.satisfaction_top2_pct as double) as satisfaction_top2_share,
    cast(ip.satisfaction_top2_pct as double) as in_person_satisfaction_top2_share,
    cast(ol.satisfaction_top2_pct as double) as online_satisfaction_top2_share
from totals as t
left join perceived as p
    on p.fiscal_year = t.fiscal_year and p.service_id = t.service_id
left join kpis as ip
    on ip.fiscal_year = t.fiscal_year and ip.service_id = t.service_id and ip.channel = 'in_person'
left join kpis as ol
    on ol.fiscal_year = t.fiscal_year and ol.service_id = t.service_id and ol.channel = 'online'
