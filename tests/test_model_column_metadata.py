"""After a refresh, each dbt model's materialization carries its column schema (DuckDB
types, .yml descriptions) and each mart its column lineage by upstream asset key, on every
fiscal year of a ranged run, beside that year's own row count, and an incremental build's
lineage includes the mart's own stored rows (orchestration/defs/dbt/columns.py)."""

from pathlib import Path

import dagster as dg
import duckdb
import yaml

from orchestration.defs.dbt.project import DBT_DIR

UNIT_COSTS = dg.AssetKey(["marts", "unit_costs"])


def _documented(model_yml: Path, name: str) -> dict[str, str]:
    [model] = [m for m in yaml.safe_load(model_yml.read_text())["models"] if m["name"] == name]
    return {c["name"]: c["description"] for c in model["columns"]}


def test_a_refresh_records_column_schemas_and_the_marts_column_lineage(civic_home, capsys):
    from lake.settings import load_settings
    from orchestration.cli import main

    assert main(["demo", "--years", "2023:2024", "--size", "0.05"]) == 0, capsys.readouterr().out[-2000:]
    instance = dg.DagsterInstance.get()

    def latest(key: dg.AssetKey, partition: str) -> dict:
        [record] = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=key, asset_partitions=[partition]), limit=1
        ).records
        return {k: v.value for k, v in record.asset_materialization.metadata.items()}

    documented = _documented(DBT_DIR / "models" / "marts" / "unit_costs.yml", "unit_costs")
    with duckdb.connect(str(load_settings().duckdb_path), read_only=True) as con:
        rows = dict(con.execute("select fiscal_year, count(*) from marts.unit_costs group by 1").fetchall())
        types = dict(
            con.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = 'marts' and table_name = 'unit_costs'"
            ).fetchall()
        )
    for year in (2023, 2024):
        meta = latest(UNIT_COSTS, str(year))
        assert meta["dagster/row_count"] == rows[year] > 0  # still the year's own count
        schema = meta["dagster/column_schema"]
        assert [c.name for c in schema.columns] == list(documented)
        assert {c.name: c.description for c in schema.columns} == documented
        assert {c.name: c.type for c in schema.columns} == types
        deps = {
            column: {(tuple(d.asset_key.path), d.column_name) for d in found}
            for column, found in meta["dagster/column_lineage"].deps_by_column.items()
        }
        assert set(deps) == set(documented)  # sqlglot resolves every column of this mart
        # unit_costs.sql: `case when k.cost is not null then coalesce(c.direct_cost, 0) end`,
        # k = service_channel_kpis, c = int_costs (via its cost_split CTE)
        assert deps["direct_cost"] == {
            (("marts", "service_channel_kpis"), "cost"),
            (("intermediate", "int_costs"), "direct_cost"),
        }
        assert deps["service_name"] == {(("marts", "service_channel_kpis"), "service_name")}
        # `case when k.channel = 'all' then {{ shift_points }} end`: the var is a literal
        assert deps["online_shift_points"] == {(("marts", "service_channel_kpis"), "channel")}
    # scorecard.sql: prior_actual = history.actual, history = int_scorecard_actuals' actuals
    # union all the mart's own stored rows ({{ this }}) when the build is incremental
    # (the first build has no stored rows: a select of nulls)
    scorecard, actuals = dg.AssetKey(["marts", "scorecard"]), (("intermediate", "int_scorecard_actuals"), "actual")

    def prior_actual() -> set:
        found = latest(scorecard, "2024")["dagster/column_lineage"].deps_by_column["prior_actual"]
        return {(tuple(d.asset_key.path), d.column_name) for d in found}

    assert prior_actual() == {actuals}
    assert main(["refresh", "--years", "2024"]) == 0, capsys.readouterr().out[-2000:]
    assert prior_actual() == {actuals, (("marts", "scorecard"), "actual")}
    # a view has its schema too (no lineage: only marts)
    staged = latest(dg.AssetKey(["staging", "stg_services"]), "2024")
    documented = _documented(DBT_DIR / "models" / "staging" / "stg_services.yml", "stg_services")
    assert [c.name for c in staged["dagster/column_schema"].columns] == list(documented)
    assert "dagster/column_lineage" not in staged


def test_upstream_relations_are_named_by_asset_key_sources_by_the_raw_assets():
    import json

    from orchestration.defs.dbt.assets import CivicTranslator
    from orchestration.defs.dbt.columns import relation_keys
    from orchestration.defs.dbt.project import ensure_manifest

    keys = relation_keys(json.loads(ensure_manifest().read_text()), CivicTranslator())
    assert keys["source.civic.raw.services"] == (("raw", "services"), dg.AssetKey(["raw", "services"]))
    assert keys["model.civic.int_costs"] == (("intermediate", "int_costs"), dg.AssetKey(["intermediate", "int_costs"]))
    assert keys["seed.civic.scorecard_measures"][1] == dg.AssetKey(["reference", "scorecard_measures"])
