-- Programme spending per fiscal year, programme and the services it funds: executed
-- ledger entries booked to a programme (programme_id set, no service, no channel), e.g.
-- departmental spending by programme (GC rbpo, fiscal data packages). Such spending
-- holds what the programme pays out (benefits, transfers, grants) with what it costs to
-- deliver, and the sources cannot tell them apart: it is kept apart from the delivery
-- costs of int_costs (cost_basis `programme_spending` in the marts), never added to them.
--
-- A programme is identified by its organisation (cost_centre) and its code. A service
-- lists its programmes by code (services.programme_ids); a programme's spending goes to
-- the services that list its code and belong to its organisation (services.agency =
-- cost_centre), or, when the code is used by one organisation only that year, to every
-- service that lists the code (the catalogues and the ledgers rarely share an
-- organisation key: GC si has owner_org slugs, rbpo numeric organisation ids). A code
-- used by several organisations (the GC Internal Services codes ISS01.. are the same in
-- every department) is therefore never pooled across them.
--
-- Apportionment: to the matched services by each one's share of their transactions,
-- then to a service's channels by its channel volume share. Spending that reaches no
-- service is kept on a row with service_id null and the reason, so the ledger adds up.
with entries as (
    select fiscal_year, cost_centre, programme_id, currency, amount
    from {{ ref('stg_ledger_entries') }}
    where
        is_executed
        and is_revenue is not true
        and amount is not null
        and service_id is null
        and channel is null
        and programme_id is not null
),

pools as (
    select fiscal_year, cost_centre, programme_id, currency, sum(amount) as amount
    from entries
    group by fiscal_year, cost_centre, programme_id, currency
),

code_holders as (
    select fiscal_year, programme_id, count(distinct cost_centre) as organisations
    from pools
    group by fiscal_year, programme_id
),

-- services.programme_ids is a `;`-separated list of codes
listed as (
    select distinct l.fiscal_year, trim(l.programme_id) as programme_id, l.service_id, l.agency
    from (
        select fiscal_year, service_id, agency, unnest(string_split(programme_ids, ';')) as programme_id
        from {{ ref('stg_services') }}
        where programme_ids is not null
    ) as l
    where trim(l.programme_id) <> ''
),

tx as (
    select fiscal_year, service_id, channel, transactions
    from {{ ref('int_transactions') }}
),

service_totals as (
    select fiscal_year, service_id, sum(transactions) as transactions
    from tx
    group by fiscal_year, service_id
),

matched as (
    select
        p.fiscal_year,
        p.cost_centre,
        p.programme_id,
        p.currency,
        l.service_id,
        coalesce(st.transactions, 0) as transactions
    from pools as p
    inner join code_holders as h
        on h.fiscal_year = p.fiscal_year and h.programme_id = p.programme_id
    inner join listed as l
        on
            l.fiscal_year = p.fiscal_year
            and l.programme_id = p.programme_id
            and (h.organisations = 1 or l.agency = p.cost_centre)
    left join service_totals as st
        on st.fiscal_year = p.fiscal_year and st.service_id = l.service_id
),

pool_volumes as (
    select
        fiscal_year, cost_centre, programme_id, currency,
        count(*) as services,
        sum(transactions) as transactions
    from matched
    group by fiscal_year, cost_centre, programme_id, currency
),

to_channels as (
    select
        m.fiscal_year,
        m.cost_centre,
        m.programme_id,
        m.currency,
        m.service_id,
        tx.channel,
        p.amount * m.transactions / v.transactions * tx.transactions / m.transactions as amount,
        cast(null as varchar) as unapportioned_reason
    from matched as m
    inner join pools as p
        on
            p.fiscal_year = m.fiscal_year and p.cost_centre = m.cost_centre
            and p.programme_id = m.programme_id and p.currency = m.currency
    inner join pool_volumes as v
        on
            v.fiscal_year = m.fiscal_year and v.cost_centre = m.cost_centre
            and v.programme_id = m.programme_id and v.currency = m.currency
    inner join tx
        on tx.fiscal_year = m.fiscal_year and tx.service_id = m.service_id
    where m.transactions > 0 and tx.transactions > 0
),

unapportioned as (
    select
        p.fiscal_year,
        p.cost_centre,
        p.programme_id,
        p.currency,
        cast(null as varchar) as service_id,
        cast(null as varchar) as channel,
        p.amount,
        case
            when v.services is not null then 'the services that list the programme have no transactions'
            when
                h.organisations > 1 and exists (
                    select 1 from listed as l
                    where l.fiscal_year = p.fiscal_year and l.programme_id = p.programme_id
                )
                then
                    'code used by ' || h.organisations
                    || ' organisations and no service of this organisation lists it'
            else 'no service of the catalogue lists the programme'
        end as unapportioned_reason
    from pools as p
    inner join code_holders as h
        on h.fiscal_year = p.fiscal_year and h.programme_id = p.programme_id
    left join pool_volumes as v
        on
            v.fiscal_year = p.fiscal_year and v.cost_centre = p.cost_centre
            and v.programme_id = p.programme_id and v.currency = p.currency
    where coalesce(v.transactions, 0) = 0
)

select
    cast(fiscal_year as integer) as fiscal_year,
    cast(cost_centre as varchar) as cost_centre,
    cast(programme_id as varchar) as programme_id,
    cast(currency as varchar) as currency,
    cast(service_id as varchar) as service_id,
    cast(channel as varchar) as channel,
    cast(sum(amount) as double) as programme_spending,
    cast(any_value(unapportioned_reason) as varchar) as unapportioned_reason
from (
    select * from to_channels
    union all
    select * from unapportioned
) as parts
group by fiscal_year, cost_centre, programme_id, currency, service_id, channel
