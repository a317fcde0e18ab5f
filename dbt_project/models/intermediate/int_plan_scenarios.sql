-- The budget plan scenarios, one row per scenario: the reference table
-- reference.plan_scenarios, which the orchestrator lands from plans/scenarios.yml after
-- validating it in Python (lake/plan_scenarios.py). Typed here so marts.budget_plan reads
-- the same columns whatever the table's storage types.
select
    cast(scenario as varchar) as scenario,
    cast(scenario_order as integer) as scenario_order,
    cast(description as varchar) as description,
    cast(is_baseline as boolean) as is_baseline,
    cast(online_shift_points as double) as online_shift_points,
    cast(digital_take_up_goal as double) as digital_take_up_goal,
    cast(wait_target_minutes as double) as wait_target_minutes,
    cast(wait_target_is_standard as boolean) as wait_target_is_standard,
    cast(volume_growth_pct as double) as volume_growth_pct,
    cast(service_ids as varchar) as service_ids,
    cast(scenarios_version as varchar) as scenarios_version,
    cast(scenarios_sha256 as varchar) as scenarios_sha256,
    -- the base year the budget office names (top-level base_fiscal_year), null: the newest
    -- year with both volumes and costs (marts.budget_plan)
    cast(base_fiscal_year as integer) as base_fiscal_year,
    -- the scenario the budget office adopted (top-level `adopted`): for every plan year
    -- not listed (is_adopted_by_default), and for the plan years it lists
    cast(is_adopted_by_default as boolean) as is_adopted_by_default,
    cast(adopted_plan_years as varchar) as adopted_plan_years
from {{ source('reference', 'plan_scenarios') }}
