-- Resident survey scores per fiscal year, survey and question (and the service the
-- question rates, where mapped). "Don't know" and blanks are excluded from the scores:
--   satisfaction_top2_pct = share of answers scoring 4 or 5 (weighted by survey weight)
--   mean_score            = weighted mean of the 1..5 scores
--   satisfaction_score    = (mean_score - 1) / 4, the 0..1 scale of service_channel_kpis
select
    cast(fiscal_year as integer) as fiscal_year,
    cast(survey_id as varchar) as survey_id,
    cast(question_id as varchar) as question_id,
    cast(any_value(question_text) as varchar) as question_text,
    cast(any_value(service_id) as varchar) as service_id,
    cast(count(distinct respondent_key) as bigint) as respondents,
    cast(count(score) as bigint) as answers,
    cast(count(*) filter (where is_dont_know) as bigint) as answers_dont_know,
    cast(sum(weight) filter (where score >= 4) / nullif(sum(weight) filter (where score is not null), 0) as double)
        as satisfaction_top2_pct,
    cast(count(*) filter (where score >= 4) / nullif(count(score), 0) as double)
        as satisfaction_top2_pct_unweighted,
    cast(sum(weight * score) / nullif(sum(weight) filter (where score is not null), 0) as double) as mean_score,
    cast((sum(weight * score) / nullif(sum(weight) filter (where score is not null), 0) - 1) / 4 as double)
        as satisfaction_score,
    cast(sum(weight) filter (where score >= 4) / nullif(sum(weight) filter (where score is not null), 0) as double)
        as satisfaction_top2_share,
    cast(count(*) filter (where score >= 4) / nullif(count(score), 0) as double)
        as satisfaction_top2_share_unweighted
from {{ ref('stg_survey_answers') }}
group by fiscal_year, survey_id, question_id
