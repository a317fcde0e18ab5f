-- Executed delivery costs per fiscal year, service and channel, apportioned by the rules of
-- docs/raw_tables.md. Only the `executed` phase counts (actual spending); fee revenue lines
-- (is_revenue) are money taken in, never a cost.
--
--   direct_cost : a service's entries with a channel, kept on that channel.
--   shared_cost : shared cost centres (service_id null) serving one channel
--                 (SHARED-IT online, SHARED-CONTACT-CENTRE phone, SHARED-BUILDINGS
--                 in_person; the entry's channel, else the centre's known channel),
--                 apportioned to services by their share of that channel's transactions
--                 across all services of the year.
--   common_cost : a service's entries without a channel, apportioned to its channels
--                 by the service's transaction volume share. Shared entries with no
--                 channel at all are first apportioned to services by their share of all
--                 transactions, then treated as common costs of each service.
--   Entries booked to a programme (programme_id set, no service, no channel) are
--   programme spending, not delivery cost: int_programme_spending holds them.
--
-- Costs that cannot be apportioned are kept, so that the costs of a year add up to its
-- executed ledger total:
--   * a service's common costs when it has no transactions: one row with channel null
--     (counted in the service's `all` total only);
--   * shared costs when no service has a transaction in the channel (or at all): one row
--     with service_id null (no service carries them).
with entries as (
    select
        fiscal_year,
        service_id,
        programme_id,
        case
            when channel is not null then channel
            when service_id is null and cost_centre = 'SHARED-IT' then 'online'
            when service_id is null and cost_centre = 'SHARED-CONTACT-CENTRE' then 'phone'
            when service_id is null and cost_centre = 'SHARED-BUILDINGS' then 'in_person'
        end as channel,
        amount
    from {{ ref('stg_ledger_entries') }}
    where
        is_executed
        and is_revenue is not true
        and amount is not null
),

tx as (
    select fiscal_year, service_id, channel, transactions
    from {{ ref('int_transactions') }}
),

channel_totals as (
    select fiscal_year, channel, sum(transactions) as channel_transactions
    from tx
    group by fiscal_year, channel
),

service_totals as (
    select fiscal_year, service_id, sum(transactions) as service_transactions
    from tx
    group by fiscal_year, service_id
),

year_totals as (
    select fiscal_year, sum(transactions) as year_transactions
    from tx
    group by fiscal_year
),

-- a service's own entries in one channel
direct as (
    select fiscal_year, service_id, channel, sum(amount) as amount
    from entries
    where service_id is not null and channel is not null
    group by fiscal_year, service_id, channel
),

-- shared entries in one channel: pooled per year and channel
shared_pool as (
    select fiscal_year, channel, sum(amount) as amount
    from entries
    where service_id is null and channel is not null
    group by fiscal_year, channel
),

shared_apportioned as (
    select
        p.fiscal_year,
        tx.service_id,
        p.channel,
        p.amount * tx.transactions / ct.channel_transactions as amount
    from shared_pool as p
    inner join channel_totals as ct
        on ct.fiscal_year = p.fiscal_year and ct.channel = p.channel
    inner join tx
        on tx.fiscal_year = p.fiscal_year and tx.channel = p.channel
    where ct.channel_transactions > 0
),

shared_unapportioned as (
    select p.fiscal_year, cast(null as varchar) as service_id, p.channel, p.amount
    from shared_pool as p
    left join channel_totals as ct
        on ct.fiscal_year = p.fiscal_year and ct.channel = p.channel
    where coalesce(ct.channel_transactions, 0) = 0
),

-- shared entries without any channel: to services by their share of all transactions
shared_any_pool as (
    select fiscal_year, sum(amount) as amount
    from entries
    where service_id is null and channel is null and programme_id is null
    group by fiscal_year
),

shared_any_to_services as (
    select
        p.fiscal_year,
        st.service_id,
        p.amount * st.service_transactions / yt.year_transactions as amount
    from shared_any_pool as p
    inner join year_totals as yt on yt.fiscal_year = p.fiscal_year
    inner join service_totals as st on st.fiscal_year = p.fiscal_year
    where yt.year_transactions > 0
),

shared_any_unapportioned as (
    select p.fiscal_year, cast(null as varchar) as service_id, cast(null as varchar) as channel, p.amount
    from shared_any_pool as p
    left join year_totals as yt on yt.fiscal_year = p.fiscal_year
    where coalesce(yt.year_transactions, 0) = 0
),

-- a service's costs common to its channels (own channel-null entries + shared-any share)
common_pool as (
    select fiscal_year, service_id, sum(amount) as amount
    from (
        select fiscal_year, service_id, amount
        from entries
        where service_id is not null and channel is null
        union all
        select fiscal_year, service_id, amount
        from shared_any_to_services
    ) as c
    group by fiscal_year, service_id
),

common_apportioned as (
    select
        p.fiscal_year,
        p.service_id,
        tx.channel,
        p.amount * tx.transactions / st.service_transactions as amount
    from common_pool as p
    inner join service_totals as st
        on st.fiscal_year = p.fiscal_year and st.service_id = p.service_id
    inner join tx
        on tx.fiscal_year = p.fiscal_year and tx.service_id = p.service_id
    where st.service_transactions > 0
),

common_unapportioned as (
    select p.fiscal_year, p.service_id, cast(null as varchar) as channel, p.amount
    from common_pool as p
    left join service_totals as st
        on st.fiscal_year = p.fiscal_year and st.service_id = p.service_id
    where coalesce(st.service_transactions, 0) = 0
),

parts as (
    select fiscal_year, service_id, channel, amount as direct_cost, 0.0 as shared_cost, 0.0 as common_cost
    from direct
    union all
    select fiscal_year, service_id, channel, 0.0, amount, 0.0 from shared_apportioned
    union all
    select fiscal_year, service_id, channel, 0.0, amount, 0.0 from shared_unapportioned
    union all
    select fiscal_year, service_id, channel, 0.0, amount, 0.0 from shared_any_unapportioned
    union all
    select fiscal_year, service_id, channel, 0.0, 0.0, amount from common_apportioned
    union all
    select fiscal_year, service_id, channel, 0.0, 0.0, amount from common_unapportioned
)

select
    cast(fiscal_year as integer) as fiscal_year,
    service_id,
    channel,
    cast(sum(direct_cost) as double) as direct_cost,
    cast(sum(shared_cost) as double) as shared_cost,
    cast(sum(common_cost) as double) as common_cost,
    cast(sum(direct_cost) + sum(shared_cost) + sum(common_cost) as double) as cost
from parts
group by fiscal_year, service_id, channel
