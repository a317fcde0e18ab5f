-- Service-standard performance per fiscal year, service and standard (int_service_standards
-- holds the rule). One build replaces exactly the fiscal years it selects.
select
    cast(fiscal_year as integer) as fiscal_year,
    cast(service_id as varchar) as service_id,
    cast(standard_id as varchar) as standard_id,
    cast(standard_name as varchar) as standard_name,
    cast(standard_type as varchar) as standard_type,
    cast(channel as varchar) as channel,
    cast(target as double) as target,
    cast(volume_meeting_target as double) as volume_meeting_target,
    cast(total_volume as double) as total_volume,
    cast(is_applicable as boolean) as is_applicable,
    cast(performance as double) as performance,
    cast(is_target_met as boolean) as is_target_met,
    cast(source as varchar) as source
from {{ ref('int_service_standards') }}
