-- Resident survey answers in long form: one row per respondent and rating question.
-- score is null for "don't know" (dont_know true) and for blanks; both are excluded from
-- satisfaction measures.
with source as (
    select * from {{ source('raw', 'survey_answers') }}
    where {{ fiscal_year_filter('fiscal_year') }}
)

select
    cast(fiscal_year as integer) as fiscal_year,
    cast(answer_id as varchar) as answer_id,
    cast(_source as varchar) as source,
    cast(survey_id as varchar) as survey_id,
    cast(respondent_key as varchar) as respondent_key,
    cast(question_id as varchar) as question_id,
    cast(question_text as varchar) as question_text,
    cast(service_id as varchar) as service_id,
    cast(responded_at as timestamp) as responded_at,
    cast(score as integer) as score,
    coalesce(cast(dont_know as boolean), false) as is_dont_know,
    cast(coalesce(weight, 1.0) as double) as weight,
    cast(area as varchar) as area,
    cast(_load_id as varchar) as load_id
from source
