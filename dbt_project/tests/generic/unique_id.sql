{#
  Generic test: no two rows share a value of `column_name` (nulls aside), like dbt's
  `unique`, for event ids counted in tens of millions. Grouping the text of 100 M ticket
  ids (a five-year backfill) needs more than DuckDB's 1500MB; this groups their 64-bit
  hashes first, then compares the text of only the rows whose hash repeats, so the answer
  is exact and the large aggregate holds fixed-width keys. Fails with each repeated value
  and its count.
#}
{% test unique_id(model, column_name) %}
with repeated_hashes as (
    select hash({{ column_name }}) as h
    from {{ model }}
    where {{ column_name }} is not null
    group by 1
    having count(*) > 1
)
select {{ column_name }} as unique_field, count(*) as n_records
from {{ model }}
where {{ column_name }} is not null
  and hash({{ column_name }}) in (select h from repeated_hashes)
group by 1
having count(*) > 1
{% endtest %}
