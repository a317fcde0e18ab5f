{{ config(unique_key='plan_year') }}
-- The budget plan summed over services, per plan year and scenario: the TOTAL rows and
-- the totals table `civic plan` prints (marts.budget_plan rows of one plan_year and
-- scenario). A null cost or volume counts as 0, as in budget_plan's own sums:
--   forecast_volume, base_volume, cost_* , unpriced_cost, total_cost,
--   baseline_total_cost, savings_vs_baseline = sums over the services
--   cost_other_channels    = cost_mobile + cost_other + unpriced_cost
--   base_digital_take_up   = sum(base_volume x base_digital_take_up) / sum(base_volume)
--   plan_digital_take_up   = sum(forecast_volume x plan_digital_take_up) / sum(forecast_volume)
--   cost_per_transaction   = total_cost / forecast_volume
--   savings_vs_baseline_pct = 100 x savings_vs_baseline / baseline_total_cost
--   wait_target_cost       = sum of the priced wait target costs (null when none is priced)
-- (each null when its denominator is 0). Rebuilt from every plan year budget_plan holds;
-- delete+insert on plan_year like budget_plan.
with plan as (
    select *
    from {{ ref('budget_plan') }}
),

sums as (
    select
        plan_year,
        scenario,
        any_value(base_fiscal_year) as base_fiscal_year,
        any_value(scenario_order) as scenario_order,
        any_value(scenario_description) as scenario_description,
        any_value(scenarios_version) as scenarios_version,
        any_value(scenarios_sha256) as scenarios_sha256,
        bool_or(is_baseline) as is_baseline,
        count(*) as services,
        count(*) filter (where applies_to_service) as services_applied,
        cast(coalesce(sum(base_volume), 0) as double) as base_volume,
        coalesce({{ exact_sum('forecast_volume') }}, 0) as forecast_volume,
        coalesce({{ exact_sum('coalesce(base_volume, 0) * coalesce(base_digital_take_up, 0)') }}, 0)
            as base_digital_volume,
        coalesce({{ exact_sum('coalesce(forecast_volume, 0) * coalesce(plan_digital_take_up, 0)') }}, 0)
            as plan_digital_volume,
        coalesce({{ exact_sum('cost_online') }}, 0) as cost_online,
        coalesce({{ exact_sum('cost_mobile') }}, 0) as cost_mobile,
        coalesce({{ exact_sum('cost_phone') }}, 0) as cost_phone,
        coalesce({{ exact_sum('cost_in_person') }}, 0) as cost_in_person,
        coalesce({{ exact_sum('cost_other') }}, 0) as cost_other,
        coalesce({{ exact_sum('unpriced_cost') }}, 0) as unpriced_cost,
        coalesce({{ exact_sum('total_cost') }}, 0) as total_cost,
        coalesce({{ exact_sum('baseline_total_cost') }}, 0) as baseline_total_cost,
        coalesce({{ exact_sum('savings_vs_baseline') }}, 0) as savings_vs_baseline,
        {{ exact_sum('wait_target_cost') }} as wait_target_cost
    from plan
    group by plan_year, scenario
)

select
    cast(plan_year as integer) as plan_year,
    cast(base_fiscal_year as integer) as base_fiscal_year,
    scenario,
    cast(scenario_order as integer) as scenario_order,
    scenario_description,
    scenarios_version,
    scenarios_sha256,
    is_baseline,
    services,
    services_applied,
    base_volume,
    forecast_volume,
    base_digital_volume / nullif(base_volume, 0) as base_digital_take_up,
    plan_digital_volume / nullif(forecast_volume, 0) as plan_digital_take_up,
    cost_online,
    cost_mobile,
    cost_phone,
    cost_in_person,
    cost_other,
    unpriced_cost,
    cost_mobile + cost_other + unpriced_cost as cost_other_channels,
    total_cost,
    total_cost / nullif(forecast_volume, 0) as cost_per_transaction,
    baseline_total_cost,
    savings_vs_baseline,
    100 * savings_vs_baseline / nullif(baseline_total_cost, 0) as savings_vs_baseline_pct,
    wait_target_cost
from sums
