{#
  Scorecard formulas (dbt_project/README.md, The marts), in one place for marts.scorecard.

  score  = actual / target when higher is better, target / actual when lower is better,
           capped at 1.25 (`scorecard_score_cap`). Lower is better and actual = 0: the cap
           (nothing can beat zero). Undefined (null) when actual or target is null, when
           higher is better and target <= 0, or when lower is better and actual < 0.
  status = met (score >= 1), near (score >= near_threshold), missed (below); null when the
           score is null (marts.scorecard says why in status_reason).
#}
{% macro scorecard_score_cap() -%}1.25{%- endmacro %}

{% macro scorecard_score(actual, target, direction) -%}
  case
    when {{ actual }} is null or {{ target }} is null then null
    when {{ direction }} = 'higher' then
      case when {{ target }} > 0 then least({{ actual }} / {{ target }}, {{ scorecard_score_cap() }}) end
    when {{ direction }} = 'lower' then
      case
        when {{ actual }} = 0 then {{ scorecard_score_cap() }}
        when {{ actual }} > 0 then least({{ target }} / {{ actual }}, {{ scorecard_score_cap() }})
      end
  end
{%- endmacro %}

{% macro scorecard_status(score, near_threshold) -%}
  case
    when {{ score }} is null then null
    when {{ score }} >= 1 then 'met'
    when {{ score }} >= {{ near_threshold }} then 'near'
    else 'missed'
  end
{%- endmacro %}
