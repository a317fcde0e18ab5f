-- Plan against actual per fiscal year and service: the budget plan made for fiscal year Y
-- (marts.budget_plan rows with plan_year = Y, made from Y's base year when that year was
-- the newest) under the scenario the budget office adopted for Y (plans/scenarios.yml
-- `adopted`), beside what Y actually had (marts.service_channel_kpis, channel all). One
-- build replaces exactly the fiscal years it selects (delete+insert on fiscal_year).
--   volume error    = actual transactions - forecast_volume   (pct: / forecast_volume)
--   channel mix     = actual digital take-up - the plan's take-up, in percentage points
--   cost error      = actual cost - planned total_cost        (pct: / total_cost)
-- budget_plan keeps the plan of every plan year (each build replaces only the plan year it
-- makes), so the plan for Y is still there when Y's actuals arrive; a year for which no plan
-- was ever made (history loaded in one go) has no row. The row of year Y is what the next
-- plan (for Y + 1, based on Y) reports about the last one.
with adopted as (
    select scenario, is_adopted_by_default, adopted_plan_years
    from {{ ref('int_plan_scenarios') }}
),

plans as (
    select p.*
    from {{ ref('budget_plan') }} as p
    where
        {{ fiscal_year_filter('p.plan_year') }}
        and p.scenario = coalesce(
            (
                select a.scenario from adopted as a
                where list_contains(string_split(a.adopted_plan_years, ';'), cast(p.plan_year as varchar))
            ),
            (
                select a.scenario from adopted as a
                where a.is_adopted_by_default
            ),
            'baseline'
        )
),

actuals as (
    select fiscal_year, service_id, transactions, cost, digital_take_up
    from {{ ref('service_channel_kpis') }}
    where channel = 'all' and {{ fiscal_year_filter('fiscal_year') }}
)

select
    cast(p.plan_year as integer) as fiscal_year,
    cast(p.service_id as varchar) as service_id,
    cast(p.service_name as varchar) as service_name,
    cast(p.scenario as varchar) as scenario,
    cast(p.base_fiscal_year as integer) as plan_base_fiscal_year,
    cast(p.scenarios_version as varchar) as scenarios_version,
    cast(p.forecast_volume as double) as planned_volume,
    cast(a.transactions as bigint) as actual_volume,
    cast(a.transactions - p.forecast_volume as double) as volume_error,
    cast(case when p.forecast_volume > 0 then 100.0 * (a.transactions - p.forecast_volume) / p.forecast_volume end as double)
        as volume_error_pct,
    cast(p.plan_digital_take_up as double) as planned_digital_take_up,
    cast(a.digital_take_up as double) as actual_digital_take_up,
    cast(100.0 * (a.digital_take_up - p.plan_digital_take_up) as double) as channel_mix_error_points,
    cast(p.total_cost as double) as planned_cost,
    cast(a.cost as double) as actual_cost,
    cast(a.cost - p.total_cost as double) as cost_error,
    cast(case when p.total_cost > 0 then 100.0 * (a.cost - p.total_cost) / p.total_cost end as double)
        as cost_error_pct
from plans as p
left join actuals as a
    on a.fiscal_year = p.plan_year and a.service_id = p.service_id
