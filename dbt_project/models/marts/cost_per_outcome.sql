-- Cost per unit of outcome, year over year (dbt_project/README.md, The marts), per fiscal year t,
-- service and outcome:
--   cost_change         = cost_t - cost_t-1 of the outcome's cost channel
--   outcome_improvement = the change in the desired direction, in improvement units
--                         (minutes for waits: prior - current; percentage points for rates:
--                         (current - prior) x 100)
--   cost_per_unit_improvement = cost_change / outcome_improvement, e.g. currency per minute
--                         of mean wait reduced. Negative when the outcome improved while the
--                         cost fell. Null, with null_reason, when the service does not offer
--                         the outcome's channel, when there is no prior year, when the
--                         outcome is not measured in both years, or when it did not improve.
-- Cost channel: the channel the outcome is measured in (waits: in_person; completion:
-- online; satisfaction: all channels), so the cost change is the spending that can have
-- moved the outcome.
--
-- Prior year: read from service_channel_kpis, which keeps every fiscal year (a build of
-- year t filters only the output to t), so building years together or one at a time gives
-- the same rows, provided t-1 was built before or with t. Refreshing t-1 later does not
-- rewrite year t's rows (a refresh changes only the years it refreshes): rebuild t too.
{% set outcomes = [
    {'outcome': 'mean_wait_minutes', 'channel': 'in_person', 'direction': 'lower', 'scale': 1,
     'unit': 'minutes', 'improvement_unit': 'minute of mean wait reduced'},
    {'outcome': 'share_within_wait_standard', 'channel': 'in_person', 'direction': 'higher', 'scale': 100,
     'unit': 'fraction', 'improvement_unit': 'percentage point more served within the wait standard'},
    {'outcome': 'completion_rate', 'channel': 'online', 'direction': 'higher', 'scale': 100,
     'unit': 'fraction', 'improvement_unit': 'percentage point of online completion rate'},
    {'outcome': 'satisfaction_top2_pct', 'channel': 'all', 'direction': 'higher', 'scale': 100,
     'unit': 'fraction', 'improvement_unit': 'percentage point of satisfied users (top-2-box)'},
] %}
with kpis as (
    select
        fiscal_year, service_id, channel, is_channel_offered, cost,
        {{ outcomes | map(attribute='outcome') | join(', ') }}
    from {{ ref('service_channel_kpis') }}
),

totals as (
    select * from kpis
    where channel = 'all'
),

outcome_values as (
    {% for o in outcomes %}
        select
            t.fiscal_year,
            t.service_id,
            '{{ o.outcome }}' as outcome,
            '{{ o.unit }}' as outcome_unit,
            '{{ o.direction }}' as desired_direction,
            '{{ o.channel }}' as cost_channel,
            '{{ o.improvement_unit }}' as improvement_unit,
            {{ o.scale }} as improvement_scale,
            t.{{ o.outcome }} as outcome_value,
            {% if o.channel == 'all' -%}
                t.cost,
                true as is_channel_offered
            {%- else -%}
                coalesce(c.cost, 0.0) as cost,
                coalesce(c.is_channel_offered, false) as is_channel_offered
            {%- endif %}
        from totals as t
        {% if o.channel != 'all' -%}
            left join kpis as c
                on c.fiscal_year = t.fiscal_year and c.service_id = t.service_id and c.channel = '{{ o.channel }}'
        {%- endif %}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

compared as (
    select
        cur.*,
        prev.fiscal_year as prior_fiscal_year,
        prev.cost as prior_cost,
        prev.outcome_value as prior_outcome_value,
        cur.outcome_value - prev.outcome_value as outcome_change,
        case cur.desired_direction
            when 'lower' then prev.outcome_value - cur.outcome_value
            else cur.outcome_value - prev.outcome_value
        end * cur.improvement_scale as outcome_improvement
    from outcome_values as cur
    left join outcome_values as prev
        on
            prev.service_id = cur.service_id
            and prev.outcome = cur.outcome
            and prev.fiscal_year = cur.fiscal_year - 1
    where {{ fiscal_year_filter('cur.fiscal_year') }}
),

reasoned as (
    select
        *,
        case
            when outcome_value is null and not is_channel_offered
                then 'service does not offer the ' || cost_channel || ' channel'
            when prior_fiscal_year is null then 'no prior year'
            when outcome_value is null or prior_outcome_value is null then 'outcome not measured in both years'
            -- a change below 1e-9 units is rounding noise, not an improvement
            when outcome_improvement <= 1e-9 then 'outcome did not improve'
        end as null_reason
    from compared
)

select
    cast(fiscal_year as integer) as fiscal_year,
    cast(service_id as varchar) as service_id,
    cast(outcome as varchar) as outcome,
    cast(outcome_unit as varchar) as outcome_unit,
    cast(desired_direction as varchar) as desired_direction,
    cast(cost_channel as varchar) as cost_channel,
    cast(prior_fiscal_year as integer) as prior_fiscal_year,
    cast(cost as double) as cost,
    cast(prior_cost as double) as prior_cost,
    cast(cost - prior_cost as double) as cost_change,
    cast(outcome_value as double) as outcome_value,
    cast(prior_outcome_value as double) as prior_outcome_value,
    cast(outcome_change as double) as outcome_change,
    cast(outcome_improvement as double) as outcome_improvement,
    cast(improvement_unit as varchar) as improvement_unit,
    cast(case when null_reason is null then (cost - prior_cost) / outcome_improvement end as double)
        as cost_per_unit_improvement,
    cast(null_reason as varchar) as null_reason
from reasoned
