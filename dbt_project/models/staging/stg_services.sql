-- Service reference: the snapshot of each fiscal year (raw.services holds one snapshot
-- per fiscal year). If a year ever held a service twice (contracts prevent it), one row is
-- kept deterministically: the one with the highest load id.
with source as (
    select * from {{ source('raw', 'services') }}
    where {{ fiscal_year_filter('fiscal_year') }}
),

typed as (
    select
        cast(fiscal_year as integer) as fiscal_year,
        cast(service_id as varchar) as service_id,
        cast(name as varchar) as service_name,
        lower(trim(cast(priority_area as varchar))) as priority_area,
        cast(cofog_division as varchar) as cofog_division,
        cast(agency as varchar) as agency,
        cast(channels as varchar) as channels_offered,
        cast(target_wait_minutes as double) as target_wait_minutes,
        cast(target_days_to_complete as double) as target_days_to_complete,
        cast(fee as double) as fee,
        nullif(trim(cast(programme_id as varchar)), '') as programme_ids,
        cast(_load_id as varchar) as load_id,
        cast(_source_file as varchar) as source_file
    from source
    where service_id is not null
)

select * from typed
qualify row_number() over (partition by fiscal_year, service_id order by load_id desc nulls last) = 1
