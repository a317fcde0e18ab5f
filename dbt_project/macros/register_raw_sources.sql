{#
  on-run-start hook: resolve every source of the `raw` and `reference` source groups
  once, so the lake.dbt_source and lake.dbt_reference plugins register their Arrow
  datasets for this dbt process (and a unit test of a model reading one finds its
  columns).

  Why: the plugin's sources are DuckDB views over a dataset registered on the dbt
  connection (materialization: view copies nothing). A view is only readable in a dbt
  process that has resolved its source. Without this hook `dbt build -s marts`,
  `dbt test` or unit tests on a fresh invocation would fail with "table ..._df does not
  exist", because the staging views they read were not rebuilt in this process.
#}
{% macro register_raw_sources() %}
    {%- if execute -%}
        {%- for node in (graph.sources.values() | list) if node.source_name in ('raw', 'reference') -%}
            {%- set relation = source(node.source_name, node.name) -%}
            {{ log("registered raw source " ~ relation, info=false) }}
        {%- endfor -%}
    {%- endif -%}
  select 1
{% endmacro %}
