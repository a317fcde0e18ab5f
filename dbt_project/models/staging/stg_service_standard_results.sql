-- Service-standard results per standard and fiscal year. Performance and whether the
-- target was met are recomputed in int_service_standards, not taken from the source.
with source as (
    select * from {{ source('raw', 'service_standard_results') }}
    where {{ fiscal_year_filter('fiscal_year') }}
)

select
    cast(fiscal_year as integer) as fiscal_year,
    cast(result_id as varchar) as result_id,
    cast(service_id as varchar) as service_id,
    cast(standard_id as varchar) as standard_id,
    cast(standard_name as varchar) as standard_name,
    cast(standard_type as varchar) as standard_type,
    cast(channel as varchar) as channel,
    cast(target as double) as target,
    cast(volume_meeting_target as double) as volume_meeting_target,
    cast(total_volume as double) as total_volume,
    cast(_source as varchar) as source,
    cast(_load_id as varchar) as load_id
from source
where service_id is not null
