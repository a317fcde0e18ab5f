-- Service performance and unit cost per fiscal year, service and channel; channel
-- 'all' is the service total. One build replaces exactly the fiscal years it selects
-- (delete+insert on fiscal_year). Formulas: dbt_project/README.md (The marts), docs/raw_tables.md.
--
-- Channel rows: every channel the service offers, plus any channel in which it has
-- transactions, costs or survey responses (is_channel_offered tells them apart).
with services as (
    select
        fiscal_year, service_id, service_name, priority_area, cofog_division, agency,
        target_wait_minutes
    from {{ ref('stg_services') }}
),

offered as (
    select fiscal_year, service_id, channel from {{ ref('int_service_channels') }}
),

tx as (
    select fiscal_year, service_id, channel, transactions, started, completions
    from {{ ref('int_transactions') }}
),

costs as (
    select fiscal_year, service_id, channel, cost
    from {{ ref('int_costs') }}
    where service_id is not null
),

-- services with delivery costs in the year: the others have no cost (null, not 0)
costed as (
    select distinct fiscal_year, service_id from costs
),

-- programme spending (int_programme_spending): never added to the delivery cost
programme as (
    select fiscal_year, service_id, channel, sum(programme_spending) as programme_spending
    from {{ ref('int_programme_spending') }}
    where service_id is not null
    group by fiscal_year, service_id, channel
),

-- channels whose published volume is unknown (not collected, blank) and that no
-- event-level source counted: their transactions are null, not 0
unknown_volumes as (
    select v.fiscal_year, v.service_id, v.channel
    from {{ ref('stg_service_transactions') }} as v
    anti join tx
        on tx.fiscal_year = v.fiscal_year and tx.service_id = v.service_id and tx.channel = v.channel
    where v.is_transaction and v.volume is null and v.volume_status in ('not_collected', 'blank')
    group by v.fiscal_year, v.service_id, v.channel
),

-- fees collected: online, the fee_amount of completed web sessions; the other channels
-- (counter, phone, mail, ...), the executed fee revenue lines of the ledger
-- (stg_ledger_entries.is_revenue; contracts: economic_class `fee_revenue`, with a service
-- and a channel). A ledger fee line of the online channel is not counted: the web
-- sessions are the online fees, and counting both would count them twice.
fees as (
    select fiscal_year, service_id, 'online' as channel, {{ exact_sum('fee_amount') }} as fee_revenue
    from {{ ref('stg_web_sessions') }}
    where is_completed and fee_amount is not null and service_id is not null
    group by fiscal_year, service_id
    union all
    select fiscal_year, service_id, channel, {{ exact_sum('amount') }} as fee_revenue
    from {{ ref('stg_ledger_entries') }}
    where
        is_revenue and is_executed and amount is not null
        and service_id is not null and channel is not null and channel <> 'online'
    group by fiscal_year, service_id, channel
),

satisfaction as (
    select * from {{ ref('int_satisfaction') }}
),

waits as (
    select * from {{ ref('int_waits') }}
),

standards as (
    select
        fiscal_year,
        service_id,
        count(*) filter (where is_applicable) as standards_applicable,
        count(*) filter (where is_target_met) as standards_met
    from {{ ref('int_service_standards') }}
    group by fiscal_year, service_id
),

channel_keys as (
    select fiscal_year, service_id, channel from offered
    union
    select fiscal_year, service_id, channel from tx
    union
    select fiscal_year, service_id, channel from costs
    where channel is not null
    union
    select fiscal_year, service_id, channel from satisfaction
    where channel <> 'all'
    union
    select fiscal_year, service_id, channel from programme
    union
    select fiscal_year, service_id, channel from unknown_volumes
    union
    select fiscal_year, service_id, channel from fees
),

channel_rows as (
    select
        k.fiscal_year,
        k.service_id,
        k.channel,
        o.channel is not null as is_channel_offered,
        case when u.channel is null then coalesce(tx.transactions, 0) end as transactions,
        case when k.channel = 'online' then coalesce(tx.started, 0) end as started,
        case when k.channel = 'online' then coalesce(tx.completions, 0) end as completions,
        case when cd.service_id is not null then coalesce(c.cost, 0.0) end as cost,
        p.programme_spending,
        f.fee_revenue,
        u.channel is not null as is_volume_unknown
    from channel_keys as k
    inner join services as s
        on s.fiscal_year = k.fiscal_year and s.service_id = k.service_id
    left join offered as o
        on o.fiscal_year = k.fiscal_year and o.service_id = k.service_id and o.channel = k.channel
    left join tx
        on tx.fiscal_year = k.fiscal_year and tx.service_id = k.service_id and tx.channel = k.channel
    left join costs as c
        on c.fiscal_year = k.fiscal_year and c.service_id = k.service_id and c.channel = k.channel
    left join costed as cd
        on cd.fiscal_year = k.fiscal_year and cd.service_id = k.service_id
    left join programme as p
        on p.fiscal_year = k.fiscal_year and p.service_id = k.service_id and p.channel = k.channel
    left join unknown_volumes as u
        on u.fiscal_year = k.fiscal_year and u.service_id = k.service_id and u.channel = k.channel
    left join fees as f
        on f.fiscal_year = k.fiscal_year and f.service_id = k.service_id and f.channel = k.channel
),

service_costs as (
    -- includes common costs that could not be apportioned to a channel (channel null)
    select fiscal_year, service_id, {{ exact_sum('cost') }} as cost
    from costs
    group by fiscal_year, service_id
),

total_rows as (
    select
        s.fiscal_year,
        s.service_id,
        'all' as channel,
        true as is_channel_offered,
        coalesce(sum(r.transactions), 0) as transactions,
        coalesce(sum(r.transactions) filter (where r.channel in ('online', 'mobile')), 0)
            as digital_transactions,
        -- the completion funnel is online: `all` carries the online values (null
        -- when the service has no online row)
        sum(r.started) filter (where r.channel = 'online') as started,
        sum(r.completions) filter (where r.channel = 'online') as completions,
        any_value(sc.cost) as cost,
        {{ exact_sum('r.programme_spending') }} as programme_spending,
        {{ exact_sum('r.fee_revenue') }} as fee_revenue,
        string_agg(r.channel, ';' order by r.channel) filter (where r.is_volume_unknown)
            as volumes_not_reported
    from services as s
    left join channel_rows as r
        on r.fiscal_year = s.fiscal_year and r.service_id = s.service_id
    left join service_costs as sc
        on sc.fiscal_year = s.fiscal_year and sc.service_id = s.service_id
    group by s.fiscal_year, s.service_id
),

rows as (
    select
        fiscal_year, service_id, channel, is_channel_offered, transactions,
        cast(null as bigint) as digital_transactions, started, completions, cost,
        programme_spending,
        case when is_volume_unknown then channel end as volumes_not_reported,
        fee_revenue
    from channel_rows
    union all
    select
        fiscal_year, service_id, channel, is_channel_offered, transactions,
        digital_transactions, started, completions, cost,
        programme_spending, volumes_not_reported, fee_revenue
    from total_rows
)

select
    cast(r.fiscal_year as integer) as fiscal_year,
    cast(r.service_id as varchar) as service_id,
    cast(r.channel as varchar) as channel,
    cast(s.service_name as varchar) as service_name,
    cast(s.priority_area as varchar) as priority_area,
    cast(s.cofog_division as varchar) as cofog_division,
    cast(s.agency as varchar) as agency,
    cast(r.is_channel_offered as boolean) as is_channel_offered,
    cast(r.transactions as bigint) as transactions,
    cast(r.started as bigint) as started,
    cast(r.completions as bigint) as completions,
    cast(r.cost as double) as cost,
    cast(case when r.transactions > 0 then r.cost / r.transactions end as double)
        as cost_per_transaction,
    cast(case
        when r.channel = 'all' and r.transactions > 0 and r.volumes_not_reported is null
            then r.digital_transactions / r.transactions
    end as double) as digital_take_up,
    cast(case
        when r.started > 0
            then least(r.completions / r.started, 1.0)
    end as double) as completion_rate,
    cast(coalesce(sat.responses, 0) as bigint) as responses,
    cast(coalesce(sat.responses_dont_know, 0) as bigint) as responses_dont_know,
    cast(coalesce(sat.responses_score_1, 0) as bigint) as responses_score_1,
    cast(coalesce(sat.responses_score_2, 0) as bigint) as responses_score_2,
    cast(coalesce(sat.responses_score_3, 0) as bigint) as responses_score_3,
    cast(coalesce(sat.responses_score_4, 0) as bigint) as responses_score_4,
    cast(coalesce(sat.responses_score_5, 0) as bigint) as responses_score_5,
    cast(sat.satisfaction_top2_pct as double) as satisfaction_top2_pct,
    cast(sat.satisfaction_score as double) as satisfaction_score,
    cast(case when r.channel in ('in_person', 'all') then w.waits_measured end as bigint)
        as waits_measured,
    cast(case when r.channel in ('in_person', 'all') then w.mean_wait_minutes end as double)
        as mean_wait_minutes,
    cast(case when r.channel in ('in_person', 'all') then w.median_wait_minutes end as double)
        as median_wait_minutes,
    cast(case when r.channel in ('in_person', 'all') then w.p90_wait_minutes end as double)
        as p90_wait_minutes,
    cast(s.target_wait_minutes as double) as target_wait_minutes,
    cast(case when r.channel in ('in_person', 'all') then w.share_within_wait_standard end as double)
        as share_within_wait_standard,
    cast(case when r.channel = 'all' then st.standards_applicable end as bigint) as standards_applicable,
    cast(case when r.channel = 'all' then st.standards_met end as bigint) as standards_met,
    cast(r.programme_spending as double) as programme_spending,
    cast(case when r.transactions > 0 then r.programme_spending / r.transactions end as double)
        as programme_spending_per_transaction,
    cast(case
        when r.cost is not null then 'delivery'
        when r.programme_spending is not null then 'programme_spending'
    end as varchar) as cost_basis,
    cast(r.volumes_not_reported as varchar) as volumes_not_reported,
    cast(sat.satisfaction_top2_pct as double) as satisfaction_top2_share,
    cast(r.fee_revenue as double) as fee_revenue,
    cast(case when r.transactions > 0 then r.fee_revenue / r.transactions end as double)
        as fee_revenue_per_transaction,
    cast(r.cost - coalesce(r.fee_revenue, 0.0) as double) as net_cost,
    cast(case when r.transactions > 0 then (r.cost - coalesce(r.fee_revenue, 0.0)) / r.transactions end as double)
        as net_cost_per_transaction
from rows as r
inner join services as s
    on s.fiscal_year = r.fiscal_year and s.service_id = r.service_id
left join satisfaction as sat
    on sat.fiscal_year = r.fiscal_year and sat.service_id = r.service_id and sat.channel = r.channel
left join waits as w
    on w.fiscal_year = r.fiscal_year and w.service_id = r.service_id
left join standards as st
    on st.fiscal_year = r.fiscal_year and st.service_id = r.service_id
