-- The online funnel per fiscal year, service and step (seed web_session_steps): how many
-- sessions reached each step and how many stopped there without completing. One build
-- replaces exactly the fiscal years it selects (delete+insert on fiscal_year).
--   reached step k       : completed sessions (they passed every step) and sessions whose
--                          last step comes at or after k
--   lost at step k       : sessions not completed whose last step is k
--   share lost at step k : lost at k / reached k
-- Sessions whose last step is not in the seed are counted apart (sessions_unknown_step)
-- and reach no step.
with steps as (
    select step, step_order from {{ ref('web_session_steps') }}
),

sessions as (
    select
        w.fiscal_year,
        w.service_id,
        w.is_completed,
        s.step_order as last_step_order,
        case when w.is_completed then (select max(st.step_order) from steps as st) else s.step_order end as reached_order
    from {{ ref('stg_web_sessions') }} as w
    left join steps as s on s.step = w.last_step
    where w.service_id is not null
),

service_years as (
    select
        fiscal_year,
        service_id,
        count(*) as sessions,
        count(*) filter (where is_completed) as sessions_completed,
        count(*) filter (where reached_order is null) as sessions_unknown_step
    from sessions
    group by fiscal_year, service_id
),

funnel as (
    select
        y.fiscal_year,
        y.service_id,
        st.step,
        st.step_order,
        count(s.reached_order) filter (where s.reached_order >= st.step_order) as sessions_reached,
        count(s.reached_order) filter (where not s.is_completed and s.last_step_order = st.step_order)
            as sessions_lost
    from service_years as y
    cross join steps as st
    left join sessions as s
        on s.fiscal_year = y.fiscal_year and s.service_id = y.service_id
    group by y.fiscal_year, y.service_id, st.step, st.step_order
)

select
    cast(f.fiscal_year as integer) as fiscal_year,
    cast(f.service_id as varchar) as service_id,
    cast(f.step as varchar) as step,
    cast(f.step_order as integer) as step_order,
    cast(f.sessions_reached as bigint) as sessions_reached,
    cast(f.sessions_lost as bigint) as sessions_lost,
    cast(case when f.sessions_reached > 0 then f.sessions_lost / f.sessions_reached end as double)
        as lost_share,
    cast(y.sessions as bigint) as sessions,
    cast(y.sessions_completed as bigint) as sessions_completed,
    cast(y.sessions_unknown_step as bigint) as sessions_unknown_step
from funnel as f
inner join service_years as y
    on y.fiscal_year = f.fiscal_year and y.service_id = f.service_id
where {{ fiscal_year_filter('f.fiscal_year') }}
