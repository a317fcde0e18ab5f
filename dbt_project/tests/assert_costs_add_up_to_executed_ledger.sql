-- Apportionment neither creates nor loses money: per fiscal year, the apportioned costs
-- (including the rows that could not be apportioned) add up to the executed ledger.
with ledger as (
    select fiscal_year, sum(amount) as amount
    from {{ ref('stg_ledger_entries') }}
    where is_executed and is_revenue is not true and amount is not null
    group by fiscal_year
),

apportioned as (
    select fiscal_year, sum(amount) as amount
    from (
        select fiscal_year, cost as amount from {{ ref('int_costs') }}
        union all
        select fiscal_year, programme_spending from {{ ref('int_programme_spending') }}
    ) as parts
    group by fiscal_year
)

select
    coalesce(l.fiscal_year, a.fiscal_year) as fiscal_year,
    l.amount as ledger_amount,
    a.amount as apportioned_amount
from ledger as l
full outer join apportioned as a on a.fiscal_year = l.fiscal_year
where abs(coalesce(l.amount, 0) - coalesce(a.amount, 0)) > 1e-6 * greatest(1, abs(coalesce(l.amount, 0)))
