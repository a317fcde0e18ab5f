-- 3-1-1 workload per fiscal year, feed, service and week of the fiscal year, with the
-- same week's baseline in earlier years, a robust z-score surge flag and repeat requests.
-- One build replaces exactly the fiscal years it selects (delete+insert on fiscal_year);
-- earlier years come from the rows this mart already holds ({{ this }}).
--   week_of_year, repeat request: per request in int_request_repeats (the week of the
--                    fiscal year; the same service and location within repeat_window_days)
--   baseline       : mean requests of the same week_of_year in the earlier fiscal years
--   robust z       : 0.6745 x (requests - median) / MAD over every week of the service
--                    and feed in this and the earlier fiscal years (median and MAD =
--                    median absolute deviation from that median); null when MAD = 0
--   surge          : robust z > var surge_robust_z (3.5, Iglewicz and Hoaglin's cut-off)
{%- set z_cut = var('surge_robust_z', 3.5) %}
with counts as (
    select
        fiscal_year,
        source,
        service_id,
        week_of_year,
        count(*) as requests,
        count(*) filter (where is_repeat) as repeat_requests
    from {{ ref('int_request_repeats') }}
    group by fiscal_year, source, service_id, week_of_year
),

-- every week of the year for each feed and service with requests in it (quiet weeks: 0)
spine as (
    select
        k.fiscal_year,
        k.source,
        k.service_id,
        cast(w.week_of_year as integer) as week_of_year
    from (select distinct fiscal_year, source, service_id from counts) as k
    cross join lateral generate_series(
        1,
        cast(ceil(epoch({{ fiscal_year_end('k.fiscal_year') }} - {{ fiscal_year_end('k.fiscal_year - 1') }}) / 604800) as bigint)
    ) as w (week_of_year)
),

weekly as (
    select
        s.fiscal_year,
        s.source,
        s.service_id,
        s.week_of_year,
        cast({{ fiscal_year_end('s.fiscal_year - 1') }} + to_days(7 * (s.week_of_year - 1)) as date) as week_start,
        coalesce(c.requests, 0) as requests,
        coalesce(c.repeat_requests, 0) as repeat_requests
    from spine as s
    left join counts as c
        on
            c.fiscal_year = s.fiscal_year and c.source = s.source and c.service_id = s.service_id
            and c.week_of_year = s.week_of_year
),

{% if is_incremental() %}
    stored as (
    -- weeks of the years this build does not replace
        select fiscal_year, source, service_id, week_of_year, requests
        from {{ this }}
        where not ({{ fiscal_year_filter('fiscal_year') }})
    ),
{% else %}
    stored as (
        select
            cast(null as integer) as fiscal_year, cast(null as varchar) as source,
            cast(null as varchar) as service_id, cast(null as integer) as week_of_year,
            cast(null as bigint) as requests
        where false
    ),
{% endif %}

history as (
    select fiscal_year, source, service_id, week_of_year, requests from weekly
    union all
    select fiscal_year, source, service_id, week_of_year, requests from stored
),

years as (
    select distinct fiscal_year, source, service_id from weekly
),

centre as (
    select y.fiscal_year, y.source, y.service_id, median(h.requests) as history_median
    from years as y
    inner join history as h
        on h.source = y.source and h.service_id = y.service_id and h.fiscal_year <= y.fiscal_year
    group by y.fiscal_year, y.source, y.service_id
),

spread as (
    select c.fiscal_year, c.source, c.service_id, c.history_median, median(abs(h.requests - c.history_median)) as history_mad
    from centre as c
    inner join history as h
        on h.source = c.source and h.service_id = c.service_id and h.fiscal_year <= c.fiscal_year
    group by c.fiscal_year, c.source, c.service_id, c.history_median
),

baseline as (
    select
        w.fiscal_year,
        w.source,
        w.service_id,
        w.week_of_year,
        avg(h.requests) as baseline_requests,
        count(h.requests) as baseline_years
    from weekly as w
    inner join history as h
        on
            h.source = w.source and h.service_id = w.service_id and h.week_of_year = w.week_of_year
            and h.fiscal_year < w.fiscal_year
    group by w.fiscal_year, w.source, w.service_id, w.week_of_year
),

scored as (
    select
        w.*,
        b.baseline_requests,
        coalesce(b.baseline_years, 0) as baseline_years,
        sp.history_median,
        sp.history_mad,
        case when sp.history_mad > 0 then 0.6745 * (w.requests - sp.history_median) / sp.history_mad end
            as robust_z
    from weekly as w
    left join baseline as b
        on
            b.fiscal_year = w.fiscal_year and b.source = w.source and b.service_id = w.service_id
            and b.week_of_year = w.week_of_year
    left join spread as sp
        on sp.fiscal_year = w.fiscal_year and sp.source = w.source and sp.service_id = w.service_id
)

select
    cast(fiscal_year as integer) as fiscal_year,
    cast(source as varchar) as source,
    cast(service_id as varchar) as service_id,
    cast(week_of_year as integer) as week_of_year,
    cast(week_start as date) as week_start,
    cast(requests as bigint) as requests,
    cast(repeat_requests as bigint) as repeat_requests,
    cast(case when requests > 0 then repeat_requests / requests end as double) as repeat_share,
    cast(baseline_requests as double) as baseline_requests,
    cast(baseline_years as integer) as baseline_years,
    cast(history_median as double) as history_median_requests,
    cast(history_mad as double) as history_mad_requests,
    cast(robust_z as double) as robust_z,
    cast(coalesce(robust_z > {{ z_cut }}, false) as boolean) as is_surge
from scored
where {{ fiscal_year_filter('fiscal_year') }}
