-- Unit costs per fiscal year, service and channel ('all' = the service total), from
-- service_channel_kpis (cost, transactions) and int_costs (how each cost was apportioned):
--   direct_cost  : the service's own entries booked to the channel;
--   shared_cost  : shared cost centres (SHARED-IT = online, SHARED-CONTACT-CENTRE = phone,
--                  SHARED-BUILDINGS = in_person) apportioned to services by their share of
--                  that channel's transactions across all services (share of use);
--   common_cost  : the service's channel-null costs apportioned to its channels by its
--                  transaction volume share.
-- cost_per_transaction = cost / transactions (null without transactions). Delivery costs only
-- (service_channel_kpis.cost_basis): a service without any has cost and its parts null.
--
-- Service-level columns, on the `all` row only (null on channel rows, so sums stay right):
--   online_cost_advantage_vs_in_person = in-person CPT - online CPT (likewise _vs_phone);
--   offline_cost_per_transaction = cost / transactions of the non-digital channels that
--     have transactions (phone, in_person, mail, email, fax, other);
--   savings_per_point_moved_online = 1 % of all transactions x (offline CPT - online CPT);
--   savings_if_moved_online = the savings if `online_shift_points` (var
--     unit_cost_online_shift_points, default 10) percentage points of volume moved online,
--     taken pro rata from the non-digital channels and capped at their share. Unit costs
--     are treated as fully variable (each channel's CPT stays as it is).
-- Null when a channel has no transactions (no unit cost), e.g. a service without an
-- online channel has no advantage and no savings.
{% set shift_points = var('unit_cost_online_shift_points', 10) | float %}
with kpis as (
    select
        fiscal_year, service_id, channel, service_name, is_channel_offered, transactions, cost,
        cost_per_transaction
    from {{ ref('service_channel_kpis') }}
    where {{ fiscal_year_filter('fiscal_year') }}
),

costs as (
    select fiscal_year, service_id, channel, direct_cost, shared_cost, common_cost
    from {{ ref('int_costs') }}
    where
        service_id is not null
        and {{ fiscal_year_filter('fiscal_year') }}
),

cost_split as (
    select fiscal_year, service_id, channel, direct_cost, shared_cost, common_cost
    from costs
    where channel is not null
    union all
    -- the service total, including common costs it could not apportion (channel null)
    select
        fiscal_year, service_id, 'all' as channel,
        {{ exact_sum('direct_cost') }}, {{ exact_sum('shared_cost') }}, {{ exact_sum('common_cost') }}
    from costs
    group by fiscal_year, service_id
),

service as (
    select
        fiscal_year,
        service_id,
        max(transactions) filter (where channel = 'all') as all_transactions,
        max(cost_per_transaction) filter (where channel = 'online') as online_cpt,
        max(cost_per_transaction) filter (where channel = 'in_person') as in_person_cpt,
        max(cost_per_transaction) filter (where channel = 'phone') as phone_cpt,
        {{ exact_sum("case when channel not in ('all', 'online', 'mobile') and transactions > 0 then cost end") }}
            as offline_cost,
        sum(transactions) filter (where channel not in ('all', 'online', 'mobile')) as offline_transactions
    from kpis
    group by fiscal_year, service_id
),

service_measures as (
    select
        fiscal_year,
        service_id,
        all_transactions,
        online_cpt,
        in_person_cpt - online_cpt as advantage_vs_in_person,
        phone_cpt - online_cpt as advantage_vs_phone,
        case when offline_transactions > 0 then offline_cost / offline_transactions end as offline_cpt,
        case when all_transactions > 0 then offline_transactions / all_transactions end as offline_share
    from service
)

select
    cast(k.fiscal_year as integer) as fiscal_year,
    cast(k.service_id as varchar) as service_id,
    cast(k.channel as varchar) as channel,
    cast(k.service_name as varchar) as service_name,
    cast(k.is_channel_offered as boolean) as is_channel_offered,
    cast(k.transactions as bigint) as transactions,
    cast(case when sm.all_transactions > 0 then k.transactions / sm.all_transactions end as double)
        as share_of_transactions,
    cast(case when k.cost is not null then coalesce(c.direct_cost, 0) end as double) as direct_cost,
    cast(case when k.cost is not null then coalesce(c.shared_cost, 0) end as double) as shared_cost,
    cast(case when k.cost is not null then coalesce(c.common_cost, 0) end as double) as common_cost,
    cast(k.cost as double) as cost,
    cast(k.cost_per_transaction as double) as cost_per_transaction,
    cast(case when k.channel = 'all' then sm.advantage_vs_in_person end as double)
        as online_cost_advantage_vs_in_person,
    cast(case when k.channel = 'all' then sm.advantage_vs_phone end as double)
        as online_cost_advantage_vs_phone,
    cast(case when k.channel = 'all' then sm.offline_cpt end as double) as offline_cost_per_transaction,
    cast(case when k.channel = 'all' then {{ shift_points }} end as double) as online_shift_points,
    cast(case when k.channel = 'all' then 0.01 * sm.all_transactions * (sm.offline_cpt - sm.online_cpt) end as double)
        as savings_per_point_moved_online,
    cast(case
        when k.channel = 'all'
            then least({{ shift_points }} / 100.0, sm.offline_share) * sm.all_transactions * (sm.offline_cpt - sm.online_cpt)
    end as double) as savings_if_moved_online
from kpis as k
inner join service_measures as sm
    on sm.fiscal_year = k.fiscal_year and sm.service_id = k.service_id
left join cost_split as c
    on c.fiscal_year = k.fiscal_year and c.service_id = k.service_id and c.channel = k.channel
