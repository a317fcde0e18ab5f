-- Every fiscal year this run reads from raw.services must be in the mart afterwards.
-- Catches a build that selected the mart without its staging views (`-s
-- service_channel_kpis` alone) after the views were last built for other years: the
-- persisted staging filters and this run's raw data would not overlap, the mart would
-- receive no rows for the year and silently keep its old ones. Build with parents
-- (`-s +service_channel_kpis`) or the whole project.
with selected as (
    select distinct cast(fiscal_year as integer) as fiscal_year
    from {{ source('raw', 'services') }}
    where {{ fiscal_year_filter('fiscal_year') }}
),

built as (
    select distinct fiscal_year
    from {{ ref('service_channel_kpis') }}
)

select s.fiscal_year as missing_fiscal_year
from selected as s
left join built as b on b.fiscal_year = s.fiscal_year
where b.fiscal_year is null
