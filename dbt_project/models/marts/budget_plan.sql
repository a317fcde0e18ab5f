{{ config(unique_key='plan_year') }}
-- The budget plan for the next fiscal year (dbt_project/README.md, The marts): per service and scenario
-- (plans/scenarios.yml via int_plan_scenarios), plan_year = base_fiscal_year + 1, the base
-- year being the one plans/scenarios.yml names (top-level base_fiscal_year), else the
-- newest fiscal year of service_channel_kpis with both volumes (transactions > 0) and
-- costs (cost > 0): a newer year with only one of them is skipped. Every build re-plans
-- from that year and replaces that plan year's rows (delete+insert on plan_year):
-- refreshing the base year changes its plan; plans made earlier for other plan years are kept.
--
-- Per service, from the base year (channel groups online, mobile, phone, in_person, other):
--   forecast_volume = base transactions x (1 + volume_growth_pct / 100)
--   channel CPT     = channel cost / channel transactions (service_channel_kpis)
--   channel cost    = forecast_volume x channel share x channel CPT
--   unpriced_cost   = base-year cost with no transactions to price it by (a channel's
--                     cost without transactions, common cost of a service without any),
--                     carried at its base-year amount
--   total_cost      = channel costs + unpriced_cost (+ wait_target_cost, in cost_in_person)
-- So the baseline (no shift, no growth) is exactly the base year: volume x mix x CPT.
--
-- Online shift (online_shift_points, or digital_take_up_goal - base take-up): that many
-- points of volume move to online from the non-digital channels (phone, in_person, other)
-- pro rata to their shares, capped at their combined share; channel CPTs stay as they are
-- (unit costs treated as variable). Only for a service with online transactions (an online
-- unit cost); otherwise the mix is unchanged and scenario_note says why.
--
-- Target CPT at the take-up goal (GDS): A + ((B - A) / (1 - X)) x (Y - X), with A = base
-- CPT, B = base digital (online + mobile) CPT, X = base digital take-up, Y = the plan's
-- take-up. Null when X = 1 (unless Y = X) or there is no digital CPT.
--
-- A scenario limited to some services (`services:`) plans the others as the baseline.
--
-- Wait target (`standard` = the service's target_wait_minutes, or minutes):
--   wait_target_cost = max(mean wait - target, 0) x cost per minute of mean wait reduced,
-- the price being marts.cost_per_outcome's latest positive cost_per_unit_improvement for
-- mean_wait_minutes up to the base year (wait_price_fiscal_year says which year); null
-- (not priced, counted as 0 in total_cost, scenario_note says so) when there is none.
--
-- savings_vs_baseline = the baseline's total_cost - this scenario's total_cost (> 0 saves);
-- savings_vs_baseline_pct = 100 x savings_vs_baseline / the baseline's total_cost.
-- cost_other_channels = cost_mobile + cost_other + unpriced_cost (what `civic plan` shows
-- beside online, phone and in person). The sums over services: budget_plan_totals.
with named_base_year as (
    -- the base year the budget office names (plans/scenarios.yml base_fiscal_year), if any
    select max(base_fiscal_year) as base_fiscal_year
    from {{ ref('int_plan_scenarios') }}
),

planable_years as (
    -- a year can carry a plan when it has both volumes and costs (a year whose volumes
    -- were published before its costs, or the reverse, cannot)
    select fiscal_year
    from {{ ref('service_channel_kpis') }}
    where channel = 'all'
    group by fiscal_year
    having coalesce(sum(transactions), 0) > 0 and coalesce(sum(cost), 0) > 0
),

base_year as (
    select coalesce(any_value(n.base_fiscal_year), max(p.fiscal_year)) as base_fiscal_year
    from named_base_year as n
    left join planable_years as p on true
),

kpis as (
    select k.*
    from {{ ref('service_channel_kpis') }} as k
    inner join base_year as b on k.fiscal_year = b.base_fiscal_year
),

groups as (
    select
        service_id,
        {{ plan_channel_group('channel') }} as channel_group,
        sum(transactions) as transactions,
        {{ exact_sum('case when transactions > 0 then cost else 0 end') }} as priced_cost
    from kpis
    where channel <> 'all'
    group by service_id, channel_group
),

base as (
    select
        t.fiscal_year as base_fiscal_year,
        t.service_id,
        t.service_name,
        t.transactions as volume,
        t.cost,
        t.cost_per_transaction as base_cpt,
        t.mean_wait_minutes,
        t.target_wait_minutes,
        {% for g in ['online', 'mobile', 'phone', 'in_person', 'other'] %}
            coalesce(sum(g.transactions) filter (where g.channel_group = '{{ g }}'), 0) as v_{{ g }},
            coalesce(sum(g.priced_cost) filter (where g.channel_group = '{{ g }}'), 0) as c_{{ g }},
        {% endfor %}
        coalesce({{ exact_sum('g.priced_cost') }}, 0) as priced_cost
    from kpis as t
    left join groups as g on g.service_id = t.service_id
    where t.channel = 'all'
    group by
        t.fiscal_year, t.service_id, t.service_name, t.transactions, t.cost, t.cost_per_transaction,
        t.mean_wait_minutes, t.target_wait_minutes
),

base_measures as (
    select
        *,
        -- (a difference below 1e-9 of the cost is rounding noise of the sums)
        case when abs(cost - priced_cost) <= 1e-9 * greatest(1, abs(cost)) then 0.0 else cost - priced_cost end
            as unpriced_cost,
        {% for g in ['online', 'mobile', 'phone', 'in_person', 'other'] %}
            case when v_{{ g }} > 0 then c_{{ g }} / v_{{ g }} end as cpt_{{ g }},
            case when volume > 0 then v_{{ g }} / volume end as m_{{ g }},
        {% endfor %}
        case when volume > 0 then (v_online + v_mobile) / volume end as take_up,
        case when volume > 0 then (v_phone + v_in_person + v_other) / volume end as offline_share,
        case when v_online + v_mobile > 0 then (c_online + c_mobile) / (v_online + v_mobile) end as digital_cpt
    from base
),

wait_price as (
    select c.service_id, c.cost_per_unit_improvement as price, c.fiscal_year as price_fiscal_year
    from {{ ref('cost_per_outcome') }} as c
    inner join base_year as b on c.fiscal_year <= b.base_fiscal_year
    where
        c.outcome = 'mean_wait_minutes'
        and c.cost_per_unit_improvement > 0
    qualify row_number() over (partition by c.service_id order by c.fiscal_year desc) = 1
),

scenarios as (
    select
        *,
        -- a service a scenario does not apply to is planned as in the baseline
        max(volume_growth_pct) filter (where is_baseline) over () as baseline_growth_pct
    from {{ ref('int_plan_scenarios') }}
),

applied as (
    select
        b.*,
        s.scenario,
        s.scenario_order,
        s.description as scenario_description,
        s.scenarios_version,
        s.scenarios_sha256,
        s.is_baseline,
        s.service_ids is null or list_contains(string_split(s.service_ids, ';'), b.service_id) as applies,
        case
            when s.service_ids is null or list_contains(string_split(s.service_ids, ';'), b.service_id)
                then s.volume_growth_pct
            else coalesce(s.baseline_growth_pct, 0)
        end as volume_growth_pct,
        case
            when s.digital_take_up_goal is not null then greatest(s.digital_take_up_goal - coalesce(b.take_up, 0), 0)
            else coalesce(s.online_shift_points, 0) / 100.0
        end as requested_shift,
        s.wait_target_is_standard,
        s.wait_target_minutes as scenario_wait_target,
        p.price as wait_price,
        p.price_fiscal_year
    from base_measures as b
    cross join scenarios as s
    left join wait_price as p on p.service_id = b.service_id
),

shifted as (
    select
        *,
        volume * (1 + volume_growth_pct / 100.0) as forecast_volume,
        case
            when not applies or volume = 0 or v_online = 0 or offline_share = 0 then 0.0
            else least(requested_shift, offline_share)
        end as shift,
        case
            when not applies then null
            when wait_target_is_standard then target_wait_minutes
            else scenario_wait_target
        end as wait_target
    from applied
),

mixed as (
    select
        *,
        m_online + shift as s_online,
        m_mobile as s_mobile,
        {% for g in ['phone', 'in_person', 'other'] %}
            case when offline_share > 0 then m_{{ g }} * (1 - shift / offline_share) else m_{{ g }} end as s_{{ g }},
        {% endfor %}
        case
            when wait_target is null or mean_wait_minutes is null then null
            else greatest(mean_wait_minutes - wait_target, 0)
        end as wait_reduction
    from shifted
),

costed as (
    select
        *,
        {% for g in ['online', 'mobile', 'phone', 'in_person', 'other'] %}
            coalesce(forecast_volume * s_{{ g }} * cpt_{{ g }}, 0) as cost_{{ g }}_volume,
        {% endfor %}
        case
            when wait_reduction = 0 then 0.0
            when wait_reduction > 0 then wait_reduction * wait_price
        end as wait_target_cost
    from mixed
),

totalled as (
    select
        *,
        cost_online_volume + cost_mobile_volume + cost_phone_volume + cost_in_person_volume
        + cost_other_volume + unpriced_cost + coalesce(wait_target_cost, 0) as total_cost
    from costed
),

compared as (
    select
        *,
        max(total_cost) filter (where is_baseline) over (partition by service_id) as baseline_total_cost
    from totalled
)

select
    cast(base_fiscal_year + 1 as integer) as plan_year,
    cast(base_fiscal_year as integer) as base_fiscal_year,
    cast(service_id as varchar) as service_id,
    cast(scenario as varchar) as scenario,
    cast(scenario_order as integer) as scenario_order,
    cast(service_name as varchar) as service_name,
    cast(scenario_description as varchar) as scenario_description,
    cast(scenarios_version as varchar) as scenarios_version,
    cast(scenarios_sha256 as varchar) as scenarios_sha256,
    cast(is_baseline as boolean) as is_baseline,
    cast(applies as boolean) as applies_to_service,
    cast(volume as bigint) as base_volume,
    cast(volume_growth_pct as double) as volume_growth_pct,
    cast(forecast_volume as double) as forecast_volume,
    cast(take_up as double) as base_digital_take_up,
    cast(case when volume > 0 then s_online + s_mobile end as double) as plan_digital_take_up,
    cast(shift * 100 as double) as online_shift_points_applied,
    cast(case when volume > 0 then s_online end as double) as share_online,
    cast(case when volume > 0 then s_mobile end as double) as share_mobile,
    cast(case when volume > 0 then s_phone end as double) as share_phone,
    cast(case when volume > 0 then s_in_person end as double) as share_in_person,
    cast(case when volume > 0 then s_other end as double) as share_other,
    cast(cpt_online as double) as cost_per_transaction_online,
    cast(cpt_mobile as double) as cost_per_transaction_mobile,
    cast(cpt_phone as double) as cost_per_transaction_phone,
    cast(cpt_in_person as double) as cost_per_transaction_in_person,
    cast(cpt_other as double) as cost_per_transaction_other,
    cast(cost_online_volume as double) as cost_online,
    cast(cost_mobile_volume as double) as cost_mobile,
    cast(cost_phone_volume as double) as cost_phone,
    cast(cost_in_person_volume + coalesce(wait_target_cost, 0) as double) as cost_in_person,
    cast(cost_other_volume as double) as cost_other,
    cast(unpriced_cost as double) as unpriced_cost,
    cast(mean_wait_minutes as double) as base_mean_wait_minutes,
    cast(wait_target as double) as wait_target_minutes,
    cast(wait_reduction as double) as wait_reduction_minutes,
    cast(case when wait_reduction > 0 then wait_price end as double) as cost_per_minute_wait_reduced,
    cast(case when wait_reduction > 0 and wait_price is not null then price_fiscal_year end as integer)
        as wait_price_fiscal_year,
    cast(wait_target_cost as double) as wait_target_cost,
    cast(total_cost as double) as total_cost,
    cast(cost as double) as base_total_cost,
    cast(baseline_total_cost as double) as baseline_total_cost,
    cast(baseline_total_cost - total_cost as double) as savings_vs_baseline,
    cast(case when forecast_volume > 0 then total_cost / forecast_volume end as double) as cost_per_transaction,
    cast(base_cpt as double) as base_cost_per_transaction,
    cast(digital_cpt as double) as base_digital_cost_per_transaction,
    cast(case
        when volume = 0 or base_cpt is null then null
        when s_online + s_mobile = take_up then base_cpt
        when take_up < 1 and digital_cpt is not null
            then base_cpt + ((digital_cpt - base_cpt) / (1 - take_up)) * ((s_online + s_mobile) - take_up)
    end as double) as target_cost_per_transaction,
    cast(nullif(concat_ws(
        '; ',
        case when not applies then 'scenario does not apply to this service' end,
        case
            when applies and requested_shift > 0 and volume > 0 and v_online = 0
                then 'no online transactions to price a shift online: channel mix unchanged'
        end,
        case
            when applies and requested_shift > 0 and v_online > 0 and requested_shift > offline_share
                then 'shift capped at the non-digital share of volume'
        end,
        case when wait_target is not null and mean_wait_minutes is null then 'no measured wait' end,
        case
            when applies and wait_target_is_standard and target_wait_minutes is null
                then 'service has no wait standard'
        end,
        case when wait_reduction = 0 then 'mean wait already within the target' end,
        case
            when wait_reduction > 0 and wait_price is null
                then 'no observed cost per minute of wait reduced: wait target not priced'
        end
    ), '') as varchar) as scenario_note,
    cast(coalesce(cost_mobile_volume, 0) + coalesce(cost_other_volume, 0) + coalesce(unpriced_cost, 0) as double)
        as cost_other_channels,
    cast(100 * (baseline_total_cost - total_cost) / nullif(baseline_total_cost, 0) as double)
        as savings_vs_baseline_pct
from compared
