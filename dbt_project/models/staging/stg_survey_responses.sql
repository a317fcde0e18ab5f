-- Survey responses. satisfaction is 1..5; null means "don't know" (a value outside
-- 1..5 is treated the same way: not an answer).
with source as (
    select * from {{ source('raw', 'survey_responses') }}
    where {{ fiscal_year_filter('fiscal_year') }}
),

typed as (
    select
        cast(fiscal_year as integer) as fiscal_year,
        cast(response_id as varchar) as response_id,
        cast(service_id as varchar) as service_id,
        nullif(lower(trim(cast(channel as varchar))), '') as channel,
        cast(responded_at as timestamp) as responded_at,
        cast(satisfaction as integer) as satisfaction_raw,
        cast(nps as integer) as nps,
        cast(perceived_wait_minutes as double) as perceived_wait_minutes,
        cast(respondent_key as varchar) as respondent_key,
        cast(_load_id as varchar) as load_id,
        cast(_source_file as varchar) as source_file
    from source
)

select
    fiscal_year,
    response_id,
    service_id,
    channel,
    responded_at,
    case when satisfaction_raw between 1 and 5 then satisfaction_raw end as satisfaction,
    satisfaction_raw is not null and satisfaction_raw between 1 and 5 as is_answered,
    coalesce(satisfaction_raw between 4 and 5, false) as is_top2,
    nps,
    perceived_wait_minutes,
    respondent_key,
    load_id,
    source_file
from typed
