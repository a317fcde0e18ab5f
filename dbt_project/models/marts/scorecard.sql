-- The balanced scorecard (dbt_project/README.md, The marts): per fiscal year, service and measure, the
-- measure's perspective, unit and desired direction (seeds/scorecard_measures.csv), its
-- target, the actual (int_scorecard_actuals), a score and a status, and the change since
-- the year before. Formulas: macros/scorecard.sql.
--
-- Target, first found: a service_standards row for the service, the service catalogue's
-- own standard where the measure names one (catalogue_target_column: mean_wait_minutes
-- takes target_wait_minutes), a service_standards default row (service_id '*'). Among
-- service_standards rows the one with the latest valid_from_fiscal_year <= the fiscal year.
--
-- Year over year: the prior year's actual comes from this build when the prior year is
-- built with it, else from the rows already in this table (incremental): building
-- years together or one at a time gives the same rows (build the oldest year first).
with actuals as (
    select fiscal_year, service_id, measure, actual
    from {{ ref('int_scorecard_actuals') }}
    where {{ fiscal_year_filter('fiscal_year') }}
),

services as (
    select fiscal_year, service_id, service_name, target_wait_minutes
    from {{ ref('service_channel_kpis') }}
    where
        channel = 'all'
        and {{ fiscal_year_filter('fiscal_year') }}
),

offered as (
    select fiscal_year, service_id, channel
    from {{ ref('service_channel_kpis') }}
    where
        channel <> 'all'
        and is_channel_offered
        and {{ fiscal_year_filter('fiscal_year') }}
),

measures as (
    select
        measure, perspective, unit, desired_direction, near_threshold, applies_to_channel,
        catalogue_target_column
    from {{ ref('scorecard_measures') }}
),

standards as (
    select standards_version, measure, service_id, valid_from_fiscal_year, target
    from {{ ref('service_standards') }}
),

grid as (
    select
        a.fiscal_year,
        a.service_id,
        s.service_name,
        a.measure,
        m.perspective,
        m.unit,
        m.desired_direction,
        coalesce(m.near_threshold, 0.9) as near_threshold,
        m.applies_to_channel,
        m.applies_to_channel is null or o.channel is not null as is_applicable,
        case m.catalogue_target_column
            when 'target_wait_minutes' then s.target_wait_minutes
        end as catalogue_target,
        a.actual
    from actuals as a
    inner join measures as m on m.measure = a.measure
    inner join services as s on s.fiscal_year = a.fiscal_year and s.service_id = a.service_id
    left join offered as o
        on o.fiscal_year = a.fiscal_year and o.service_id = a.service_id and o.channel = m.applies_to_channel
),

service_standard as (
    select g.fiscal_year, g.service_id, g.measure, st.target, st.standards_version
    from grid as g
    inner join standards as st
        on st.measure = g.measure and st.service_id = g.service_id and st.valid_from_fiscal_year <= g.fiscal_year
    qualify row_number() over (
        partition by g.fiscal_year, g.service_id, g.measure order by st.valid_from_fiscal_year desc
    ) = 1
),

default_standard as (
    select g.fiscal_year, g.service_id, g.measure, st.target, st.standards_version
    from grid as g
    inner join standards as st
        on st.measure = g.measure and st.service_id = '*' and st.valid_from_fiscal_year <= g.fiscal_year
    qualify row_number() over (
        partition by g.fiscal_year, g.service_id, g.measure order by st.valid_from_fiscal_year desc
    ) = 1
),

targeted as (
    select
        g.*,
        coalesce(ss.target, g.catalogue_target, ds.target) as target,
        case
            when ss.target is not null then 'service_standards (service)'
            when g.catalogue_target is not null then 'service catalogue'
            when ds.target is not null then 'service_standards (default)'
        end as target_source,
        case
            when ss.target is not null then ss.standards_version
            when g.catalogue_target is not null then null
            else ds.standards_version
        end as standards_version
    from grid as g
    left join service_standard as ss
        on ss.fiscal_year = g.fiscal_year and ss.service_id = g.service_id and ss.measure = g.measure
    left join default_standard as ds
        on ds.fiscal_year = g.fiscal_year and ds.service_id = g.service_id and ds.measure = g.measure
),

scored as (
    select
        *,
        case when is_applicable then {{ scorecard_score('actual', 'target', 'desired_direction') }} end as score
    from targeted
),

{% if is_incremental() %}
    stored as (
    -- rows of years this build does not replace (the prior year of a year built alone)
        select fiscal_year, service_id, measure, actual
        from {{ this }}
        where not ({{ fiscal_year_filter('fiscal_year') }})
    ),
{% else %}
    stored as (
        select
            cast(null as integer) as fiscal_year, cast(null as varchar) as service_id,
            cast(null as varchar) as measure, cast(null as double) as actual
        where false
    ),
{% endif %}

history as (
    select fiscal_year, service_id, measure, actual from actuals
    union all
    select fiscal_year, service_id, measure, actual from stored
)

select
    cast(s.fiscal_year as integer) as fiscal_year,
    cast(s.service_id as varchar) as service_id,
    cast(s.measure as varchar) as measure,
    cast(s.service_name as varchar) as service_name,
    cast(s.perspective as varchar) as perspective,
    cast(s.unit as varchar) as unit,
    cast(s.desired_direction as varchar) as desired_direction,
    cast(s.target as double) as target,
    cast(s.target_source as varchar) as target_source,
    cast(s.standards_version as varchar) as standards_version,
    cast(s.actual as double) as actual,
    cast(s.score as double) as score,
    cast({{ scorecard_status('s.score', 's.near_threshold') }} as varchar) as status,
    cast(case
        when not s.is_applicable then 'service does not offer the ' || s.applies_to_channel || ' channel'
        when s.actual is null then 'no actual for the year'
        when s.target is null then 'no target in service_standards'
        when s.score is null and s.desired_direction = 'higher' then 'target must be positive'
        when s.score is null and s.desired_direction = 'lower' then 'actual is negative'
        when s.score is null then 'unknown desired_direction'
    end as varchar) as status_reason,
    cast(s.near_threshold as double) as near_threshold,
    cast(h.actual as double) as prior_actual,
    cast(s.actual - h.actual as double) as actual_change,
    cast(case
        when s.actual is null or h.actual is null then null
        when s.actual = h.actual then 'unchanged'
        when (s.actual > h.actual) = (s.desired_direction = 'higher') then 'improved'
        else 'worsened'
    end as varchar) as change_direction
from scored as s
left join history as h
    on h.fiscal_year = s.fiscal_year - 1 and h.service_id = s.service_id and h.measure = s.measure
