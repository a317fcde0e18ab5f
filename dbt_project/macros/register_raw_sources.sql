{#
  on-run-start hook: resolve every source of the `raw` source group once, so the
  lake.dbt_source plugin registers its Arrow dataset for this dbt process.

  Why: the plugin's sources are DuckDB views over a dataset registered on the dbt
  connection (materialization: view copies nothing). A view is only readable in a dbt
  process that has resolved its source. Without this hook `dbt build -s marts`,
  `dbt test` or unit tests on a fresh invocation would fail with "table ..._df does not
  exist", because the staging views they read were not rebuilt in this process.
#}
{% macro register_raw_sources() %}
  {%- if execute -%}
    {%- for node in (graph.sources.values() | list) if node.source_name == 'raw' -%}
      {%- set relation = source(node.source_name, node.name) -%}
      {{ log("registered raw source " ~ relation, info=false) }}
    {%- endfor -%}
  {%- endif -%}
  select 1
{% endmacro %}
