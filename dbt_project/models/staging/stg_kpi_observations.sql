-- KPIs as publishers publish them (performance dashboards, KPI feeds). value is null
-- where the publisher marks a figure not available.
with source as (
    select * from {{ source('raw', 'kpi_observations') }}
    where {{ fiscal_year_filter('fiscal_year') }}
)

select
    cast(fiscal_year as integer) as fiscal_year,
    cast(observation_id as varchar) as observation_id,
    cast(publisher as varchar) as publisher,
    cast(service_id as varchar) as service_id,
    cast(service_name as varchar) as service_name,
    lower(trim(cast(kpi as varchar))) as kpi,
    cast(dimension as varchar) as dimension,
    cast(channel as varchar) as channel,
    cast(period_start as timestamp) as period_start,
    lower(trim(cast(period as varchar))) as period,
    cast(value as double) as value,
    cast(unit as varchar) as unit,
    cast(_source as varchar) as source,
    cast(_load_id as varchar) as load_id
from source
