-- The channel rows of a service add up to its `all` row: transactions always, and cost
-- whenever the service has transactions (otherwise its common costs stay on `all`).
with channels as (
    select fiscal_year, service_id, sum(transactions) as transactions, sum(cost) as cost
    from {{ ref('service_channel_kpis') }}
    where channel <> 'all'
    group by fiscal_year, service_id
),

totals as (
    select fiscal_year, service_id, transactions, cost
    from {{ ref('service_channel_kpis') }}
    where channel = 'all'
)

select t.*, c.transactions as channel_transactions, c.cost as channel_cost
from totals as t
left join channels as c
    on c.fiscal_year = t.fiscal_year and c.service_id = t.service_id
where
    t.transactions <> coalesce(c.transactions, 0)
    or (t.transactions > 0 and abs(t.cost - coalesce(c.cost, 0)) > 1e-6 * greatest(1, abs(t.cost)))
