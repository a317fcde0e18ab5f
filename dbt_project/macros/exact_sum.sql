{#
  sum() of a double column that gives the same result whatever the order of the rows.
  Floating-point addition is not associative: DuckDB's parallel aggregation adds the rows
  in an order that can change between runs, so a plain sum of three or more doubles can
  differ in the last bit from one build to the next (and a rebuild of an unchanged year
  would not be identical). Each value is rounded to 1e-10 as a DECIMAL(38, 10), summed
  exactly (decimal addition is associative), and returned as a double.
#}
{% macro exact_sum(expression) -%}
    cast(sum(cast({{ expression }} as decimal(38, 10))) as double)
{%- endmacro %}
