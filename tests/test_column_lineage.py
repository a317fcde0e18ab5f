"""Column lineage by sqlglot (lake/column_lineage.py) on hand-written SQL whose answers
can be read off it, and its on-disk cache per model."""

from lake.column_lineage import ColumnLineage, cached_lineage, column_lineage

SCHEMAS = {
    ("staging", "orders"): {"order_id": "VARCHAR", "net": "DOUBLE", "tax": "DOUBLE", "fiscal_year": "INTEGER"},
    ("staging", "refunds"): {"order_id": "VARCHAR", "amount": "DOUBLE", "fiscal_year": "INTEGER"},
}

SQL = """
with gross as (
    select fiscal_year, order_id, net + tax as gross from "lakehouse"."staging"."orders"
    where fiscal_year in (2024)
),
moves as (
    select order_id, gross as amount, 'sale' as kind from gross
    union all
    select order_id, -amount, 'refund' from "lakehouse"."staging"."refunds"
)
select
    g.fiscal_year as year,
    m.order_id as id,
    sum(m.amount) as total,
    m.kind,
    count(*) as moves,
    10 as shift_points
from moves as m
join gross as g using (order_id)
group by all
"""


def test_each_output_column_lists_the_upstream_columns_its_expression_reads():
    found = column_lineage(SQL, SCHEMAS)
    assert found.unresolved == []
    assert found.deps == {
        "year": [("staging", "orders", "fiscal_year")],  # renamed
        "id": [("staging", "orders", "order_id"), ("staging", "refunds", "order_id")],  # both union branches
        "total": [("staging", "orders", "net"), ("staging", "orders", "tax"), ("staging", "refunds", "amount")],
        "kind": [],  # literals in both branches
        "moves": [],  # count(*) reads no column
        "shift_points": [],
    }


def test_a_column_of_no_known_source_is_unresolved_not_guessed():
    # `extra` is in neither table; `v` comes from a table the schemas do not hold
    sql = 'select o.order_id, extra, x.v from "staging"."orders" o, "staging"."orders" p, "raw"."other" x'
    found = column_lineage(sql, SCHEMAS)
    assert found.deps == {"order_id": [("staging", "orders", "order_id")]}
    assert sorted(found.unresolved) == ["extra", "v"]
    assert column_lineage("select * from raw.unknown", SCHEMAS).deps == {}
    assert column_lineage("this is not sql", SCHEMAS) == ColumnLineage()


def test_the_cache_is_read_for_unchanged_sql_and_recomputed_when_it_or_a_parent_changes(tmp_path):
    first, cached = cached_lineage(tmp_path, "model.civic.orders_total", SQL, SCHEMAS)
    assert not cached and first == column_lineage(SQL, SCHEMAS)
    again, cached = cached_lineage(tmp_path, "model.civic.orders_total", SQL, SCHEMAS)
    assert cached and again == first
    # other fiscal years of the build: same lineage, read from the cache
    _, cached = cached_lineage(tmp_path, "model.civic.orders_total", SQL.replace("(2024)", "(2023, 2024)"), SCHEMAS)
    assert cached
    changed = SQL.replace("net + tax as gross", "net as gross")
    now, cached = cached_lineage(tmp_path, "model.civic.orders_total", changed, SCHEMAS)
    assert not cached and ("staging", "orders", "tax") not in now.deps["total"]
    wider = {**SCHEMAS, ("staging", "refunds"): {**SCHEMAS["staging", "refunds"], "note": "VARCHAR"}}
    _, cached = cached_lineage(tmp_path, "model.civic.orders_total", changed, wider)
    assert not cached
    assert [p.name for p in tmp_path.iterdir()] == ["model.civic.orders_total.json"]  # one file per model
