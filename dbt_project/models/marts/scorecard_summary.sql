-- The scorecard rolled up per fiscal year and service (the `civic demo` summary's
-- "scorecard status per service"): how many of the service's measures met, nearly met or
-- missed their target, how many could not be scored (status null: no target, no actual or
-- channel not offered), the mean score of the scored ones, and the missed measures by
-- name (ordered by perspective, then measure). Built per fiscal year from marts.scorecard
-- (delete+insert on fiscal_year, like the scorecard).
select
    fiscal_year,
    service_id,
    any_value(service_name) as service_name,
    count(*) as measures,
    count(*) filter (where status = 'met') as met,
    count(*) filter (where status = 'near') as near,
    count(*) filter (where status = 'missed') as missed,
    count(*) filter (where status is null) as not_scored,
    avg(score) as mean_score,
    string_agg(measure, ', ' order by perspective, measure) filter (where status = 'missed')
        as missed_measures
from {{ ref('scorecard') }}
where {{ fiscal_year_filter('fiscal_year') }}
group by fiscal_year, service_id
