-- The measured actual of every scorecard measure, per fiscal year and service (long
-- format: one row per measure; actual null when it cannot be measured that year). Every
-- service of the year's services snapshot gets every measure.
--
-- Add a measure (no Python change, see dbt_project/README.md "Add a measure"):
--   1. a `union all` block below returning fiscal_year, service_id, measure, actual;
--   2. a row in seeds/scorecard_measures.csv (perspective, unit, direction, ...);
--   3. a default target in seeds/service_standards.csv (service_id '*').
with kpis as (
    select *
    from {{ ref('service_channel_kpis') }}
    where
        channel = 'all'
        and {{ fiscal_year_filter('fiscal_year') }}
),

requests as (
    select fiscal_year, service_id, sum(closed_with_sla) as closed_with_sla, sum(closed_within_sla) as closed_within_sla
    from {{ ref('service_requests_summary') }}
    where
        channel = 'all'
        and {{ fiscal_year_filter('fiscal_year') }}
    group by fiscal_year, service_id
),

online_time as (
    select fiscal_year, service_id, median_minutes
    from {{ ref('time_to_complete') }}
    where
        channel = 'online' and source = 'web_sessions'
        and {{ fiscal_year_filter('fiscal_year') }}
),

budget as (
    select fiscal_year, service_id, spend_to_budget
    from {{ ref('int_budget_execution') }}
    where {{ fiscal_year_filter('fiscal_year') }}
),

actuals as (
    -- financial stewardship
    select fiscal_year, service_id, 'cost_per_transaction' as measure, cost_per_transaction as actual
    from kpis
    union all
    select k.fiscal_year, k.service_id, 'spend_to_approved_budget', b.spend_to_budget
    from kpis as k
    left join budget as b on b.fiscal_year = k.fiscal_year and b.service_id = k.service_id
    union all
    select fiscal_year, service_id, 'net_cost_per_transaction', net_cost_per_transaction
    from kpis
    -- citizen
    union all
    select fiscal_year, service_id, 'satisfaction_top2_pct', satisfaction_top2_pct
    from kpis
    union all
    select fiscal_year, service_id, 'share_within_wait_standard', share_within_wait_standard
    from kpis
    -- internal process
    union all
    select fiscal_year, service_id, 'mean_wait_minutes', mean_wait_minutes
    from kpis
    union all
    select fiscal_year, service_id, 'completion_rate', completion_rate
    from kpis
    union all
    select
        k.fiscal_year, k.service_id, 'requests_closed_within_sla',
        case when r.closed_with_sla > 0 then r.closed_within_sla / r.closed_with_sla end
    from kpis as k
    left join requests as r on r.fiscal_year = k.fiscal_year and r.service_id = k.service_id
    union all
    select k.fiscal_year, k.service_id, 'online_median_minutes_to_complete', t.median_minutes
    from kpis as k
    left join online_time as t on t.fiscal_year = k.fiscal_year and t.service_id = k.service_id
    -- organisational capacity
    union all
    select fiscal_year, service_id, 'digital_take_up', digital_take_up
    from kpis
    union all
    select
        fiscal_year, service_id, 'survey_responses_per_1000_transactions',
        case when transactions > 0 then responses * 1000.0 / transactions end
    from kpis
)

select
    cast(fiscal_year as integer) as fiscal_year,
    cast(service_id as varchar) as service_id,
    cast(measure as varchar) as measure,
    cast(actual as double) as actual
from actuals
