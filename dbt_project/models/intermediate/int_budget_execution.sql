-- Budget execution per fiscal year and service, over the service's own ledger entries
-- (service_id set: shared cost centres have no service budget). Budget = the `adjusted`
-- phase when the service has adjusted entries that year, else the `approved` phase.
-- spend_to_budget = executed / budget (null without a positive budget).
with entries as (
    select fiscal_year, service_id, phase, amount
    from {{ ref('stg_ledger_entries') }}
    where
        service_id is not null
        and is_revenue is not true
        and amount is not null
),

by_phase as (
    select
        fiscal_year,
        service_id,
        sum(amount) filter (where phase = 'executed') as executed,
        sum(amount) filter (where phase = 'approved') as approved,
        sum(amount) filter (where phase = 'adjusted') as adjusted,
        count(*) filter (where phase = 'adjusted') as adjusted_entries
    from entries
    group by fiscal_year, service_id
),

budget as (
    select
        fiscal_year,
        service_id,
        coalesce(executed, 0.0) as executed_amount,
        case when adjusted_entries > 0 then adjusted else approved end as budget_amount,
        case when adjusted_entries > 0 then 'adjusted' when approved is not null then 'approved' end as budget_phase
    from by_phase
)

select
    cast(fiscal_year as integer) as fiscal_year,
    service_id,
    cast(executed_amount as double) as executed_amount,
    cast(budget_amount as double) as budget_amount,
    budget_phase,
    cast(case when budget_amount > 0 then executed_amount / budget_amount end as double) as spend_to_budget
from budget
