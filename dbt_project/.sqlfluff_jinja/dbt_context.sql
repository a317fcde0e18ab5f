{#
  Stubs for sqlfluff's jinja templater (.sqlfluff: load_macros_from_path) of the dbt context
  it does not provide. Lint only: dbt never reads this folder (not in macro-paths).
#}
{% macro env_var(name, default='') %}{{ default }}{% endmacro %}
