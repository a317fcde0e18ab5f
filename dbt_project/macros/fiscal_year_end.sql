{#
  The first moment after fiscal year `fiscal_year` (exclusive end), as a timestamp
  expression. A fiscal year is labelled by the calendar year in which it ends and starts in
  month `fy_start_month`, a dbt var the orchestrator passes from its FiscalCalendar
  (orchestration.defs.partitions.dbt_vars; default 1):
  start month 1 -> FY Y ends at Y+1-01-01; start month m > 1 -> FY Y ends at Y-m-01.
#}
{% macro fiscal_year_end(fiscal_year) -%}
  {%- set start_month = var('fy_start_month', 1) | int -%}
  {%- if start_month < 1 or start_month > 12 -%}
    {{ exceptions.raise_compiler_error("fy_start_month must be 1..12, got " ~ start_month) }}
  {%- endif -%}
  {%- if start_month == 1 -%}
    make_timestamp(cast({{ fiscal_year }} as bigint) + 1, 1, 1, 0, 0, 0)
  {%- else -%}
    make_timestamp(cast({{ fiscal_year }} as bigint), {{ start_month }}, 1, 0, 0, 0)
  {%- endif -%}
{%- endmacro %}
