-- 3-1-1 hot spots per fiscal year, feed, service and coarse area (ward, ZIP code, grid
-- cell: stg_service_requests.area, never a street address). One build replaces exactly the
-- fiscal years it selects (delete+insert on fiscal_year).
--   share     = the area's requests / the service's requests with an area
--   hot spot  = at least 2 areas, and the area's requests >= var hot_spot_factor (2) x
--               the mean requests per area of the service and year
--   repeats   = requests that repeat an earlier one of the same service and location
--               within repeat_window_days (int_request_repeats)
{%- set factor = var('hot_spot_factor', 2) %}
with areas as (
    select
        fiscal_year,
        source,
        service_id,
        area,
        count(*) as requests,
        count(*) filter (where is_repeat) as repeat_requests
    from {{ ref('int_request_repeats') }}
    where area is not null and {{ fiscal_year_filter('fiscal_year') }}
    group by fiscal_year, source, service_id, area
),

services as (
    select fiscal_year, source, service_id, sum(requests) as service_requests, count(*) as service_areas
    from areas
    group by fiscal_year, source, service_id
)

select
    cast(a.fiscal_year as integer) as fiscal_year,
    cast(a.source as varchar) as source,
    cast(a.service_id as varchar) as service_id,
    cast(a.area as varchar) as area,
    cast(a.requests as bigint) as requests,
    cast(a.requests / s.service_requests as double) as share_of_service_requests,
    cast(rank() over (partition by a.fiscal_year, a.source, a.service_id order by a.requests desc) as integer)
        as area_rank,
    cast(s.service_areas as integer) as service_areas,
    cast(s.service_requests / s.service_areas as double) as mean_requests_per_area,
    cast(s.service_areas >= 2 and a.requests >= {{ factor }} * s.service_requests / s.service_areas as boolean)
        as is_hot_spot,
    cast(a.repeat_requests as bigint) as repeat_requests,
    cast(a.repeat_requests / a.requests as double) as repeat_share
from areas as a
inner join services as s
    on s.fiscal_year = a.fiscal_year and s.source = a.source and s.service_id = a.service_id
