-- Service-standard results recomputed from the volumes (the Canadian rule, docs/sources_gc_fdp.md):
--   performance = volume_meeting_target / total_volume
--   target met  = performance >= target
--   not applicable (null performance and met) when the target is blank or 0, a volume is
--   blank, or the total volume is 0.
select
    fiscal_year,
    service_id,
    standard_id,
    result_id,
    standard_name,
    standard_type,
    channel,
    target,
    volume_meeting_target,
    total_volume,
    coalesce(target, 0) > 0
    and volume_meeting_target is not null
    and coalesce(total_volume, 0) > 0 as is_applicable,
    case
        when coalesce(target, 0) > 0 and volume_meeting_target is not null and coalesce(total_volume, 0) > 0
            then volume_meeting_target / total_volume
    end as performance,
    case
        when coalesce(target, 0) > 0 and volume_meeting_target is not null and coalesce(total_volume, 0) > 0
            then volume_meeting_target / total_volume >= target
    end as is_target_met,
    source
from {{ ref('stg_service_standard_results') }}
