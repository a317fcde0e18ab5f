{% macro register_raw_sources() %}
  {{ return('select 1') }}
{% endmacro %}
