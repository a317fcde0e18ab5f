-- Aggregated volumes per service, channel and fiscal year (service inventories). Only
-- kind `application` is a transaction; phone enquiries and website visits are
-- interactions, kept for context. A null volume means "not reported", never zero.
with source as (
    select * from {{ source('raw', 'service_transactions') }}
    where {{ fiscal_year_filter('fiscal_year') }}
)

select
    cast(fiscal_year as integer) as fiscal_year,
    cast(entry_id as varchar) as entry_id,
    cast(service_id as varchar) as service_id,
    lower(trim(cast(channel as varchar))) as channel,
    lower(trim(cast(kind as varchar))) as kind,
    cast(volume as double) as volume,
    -- why a volume is null: not_applicable (none: the channel cannot be used),
    -- not_collected or blank (unknown); reported otherwise
    coalesce(
        lower(cast(volume_status as varchar)),
        case when volume is null then 'blank' else 'reported' end
    ) as volume_status,
    coalesce(lower(trim(cast(kind as varchar))) = 'application', false) as is_transaction,
    cast(_source as varchar) as source,
    cast(_load_id as varchar) as load_id
from source
where service_id is not null
