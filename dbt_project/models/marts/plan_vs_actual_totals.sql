-- Plan against actual summed over services, per fiscal year: the total line `civic plan`
-- prints under the errors of the last plan (marts.plan_vs_actual rows of one fiscal year).
-- Each sum covers the services whose actual is known, so a service missing from the year
-- does not count as an error of the whole plan:
--   planned_volume, actual_volume = sums over services with an actual_volume
--   planned_cost, actual_cost     = sums over services with an actual_cost
--   volume_error = actual_volume - planned_volume   (pct: / planned_volume)
--   cost_error   = actual_cost - planned_cost       (pct: / planned_cost)
--   planned_digital_take_up = sum(planned_volume x planned take-up) / sum(planned_volume)
--   actual_digital_take_up  = sum(actual_volume x actual take-up) / sum(actual_volume)
--     (both over the services with both take-ups known)
--   channel_mix_error_points = 100 x (actual - planned digital take-up)
-- (each null when its denominator is 0). One build replaces the fiscal years it selects.
with rows_ as (
    select *
    from {{ ref('plan_vs_actual') }}
    where {{ fiscal_year_filter('fiscal_year') }}
),

sums as (
    select
        fiscal_year,
        any_value(scenario) as scenario,
        count(distinct scenario) as scenarios,
        any_value(plan_base_fiscal_year) as plan_base_fiscal_year,
        count(*) as services,
        count(actual_volume) as services_with_actuals,
        sum(planned_volume) filter (where actual_volume is not null) as planned_volume,
        sum(actual_volume) as actual_volume,
        sum(planned_cost) filter (where actual_cost is not null) as planned_cost,
        sum(actual_cost) as actual_cost,
        sum(planned_volume * planned_digital_take_up) filter (
            where planned_digital_take_up is not null and actual_digital_take_up is not null
        ) as planned_digital_volume,
        sum(planned_volume) filter (
            where planned_digital_take_up is not null and actual_digital_take_up is not null
        ) as planned_mix_volume,
        sum(actual_volume * actual_digital_take_up) filter (
            where planned_digital_take_up is not null and actual_digital_take_up is not null
        ) as actual_digital_volume,
        sum(actual_volume) filter (
            where planned_digital_take_up is not null and actual_digital_take_up is not null
        ) as actual_mix_volume
    from rows_
    group by fiscal_year
),

shares as (
    select
        *,
        planned_digital_volume / nullif(planned_mix_volume, 0) as planned_take_up,
        actual_digital_volume / nullif(actual_mix_volume, 0) as actual_take_up
    from sums
)

select
    cast(fiscal_year as integer) as fiscal_year,
    cast(case when scenarios = 1 then scenario end as varchar) as scenario,
    cast(plan_base_fiscal_year as integer) as plan_base_fiscal_year,
    cast(services as bigint) as services,
    cast(services_with_actuals as bigint) as services_with_actuals,
    cast(planned_volume as double) as planned_volume,
    cast(actual_volume as bigint) as actual_volume,
    cast(actual_volume - planned_volume as double) as volume_error,
    cast(100.0 * (actual_volume - planned_volume) / nullif(planned_volume, 0) as double) as volume_error_pct,
    cast(planned_take_up as double) as planned_digital_take_up,
    cast(actual_take_up as double) as actual_digital_take_up,
    cast(100.0 * (actual_take_up - planned_take_up) as double) as channel_mix_error_points,
    cast(planned_cost as double) as planned_cost,
    cast(actual_cost as double) as actual_cost,
    cast(actual_cost - planned_cost as double) as cost_error,
    cast(100.0 * (actual_cost - planned_cost) / nullif(planned_cost, 0) as double) as cost_error_pct
from shares
