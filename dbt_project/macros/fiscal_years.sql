{#
  The fiscal years this run builds, from the dbt var `fiscal_years`:
  a list of ints (`--vars '{fiscal_years: [2024, 2025]}'`), a single int, a
  comma-separated string, or null / absent = all years (returns none).
#}
{% macro selected_fiscal_years() %}
  {%- set value = var('fiscal_years', none) -%}
  {%- if value is none or (value is string and value | trim | lower in ['', 'none', 'null', '[]']) -%}
    {{ return(none) }}
  {%- elif value is number -%}
    {{ return([value | int]) }}
  {%- elif value is string -%}
    {%- set years = [] -%}
    {%- for part in (value | replace('[', '') | replace(']', '')).split(',') if part | trim != '' -%}
      {%- do years.append(part | trim | int) -%}
    {%- endfor -%}
    {{ return(years if years else none) }}
  {%- else -%}
    {%- set years = [] -%}
    {%- for part in value -%}
      {%- do years.append(part | int) -%}
    {%- endfor -%}
    {{ return(years if years else none) }}
  {%- endif -%}
{% endmacro %}

{#
  SQL predicate restricting `column` to the selected fiscal years (`true` when all years
  are selected). The raw source plugin already prunes files by fiscal year; this keeps
  results correct whatever the plugin was given.
#}
{% macro fiscal_year_filter(column='fiscal_year') %}
  {%- set years = selected_fiscal_years() -%}
  {%- if years is none -%}
    true
  {%- else -%}
    {{ column }} in ({{ years | join(', ') }})
  {%- endif -%}
{% endmacro %}
