"""The dbt-duckdb source plugin lake.dbt_source: Iceberg raw tables as lazy Arrow datasets."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.dataset as pds
import pytest
from dbt.adapters.duckdb.utils import SourceConfig
from pyiceberg.expressions import EqualTo
from pyiceberg.transforms import IdentityTransform
from pyiceberg.types import StringType

from lake import dbt_source
from lake.catalog import open_catalog
from lake.dbt_source import Plugin, arrow_filesystem, iceberg_dataset, parse_fiscal_years
from lake.settings import load_settings

pytestmark = pytest.mark.filterwarnings("ignore:Delete operation did not match")

SCHEMA = pa.schema(
    [("event_id", pa.string()), ("value", pa.float64()), ("fiscal_year", pa.int32()), ("_load_id", pa.string())]
)


@pytest.fixture()
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = {"CIVIC_HOME": str(tmp_path / "civic")}
    for key in ("CIVIC_CATALOG_URI", "CIVIC_WAREHOUSE", "CIVIC_DUCKDB"):
        monkeypatch.delenv(key, raising=False)
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return values


def make_table(catalog, name: str = "raw.events"):
    table = catalog.create_table(name, schema=SCHEMA)
    with table.update_spec() as spec:
        spec.add_field("fiscal_year", IdentityTransform(), "fiscal_year")
    return catalog.load_table(name)


def write_year(table, year: int, n: int) -> None:
    data = pa.table(
        {
            "event_id": [f"{year}-{i}" for i in range(n)],
            "value": [float(i) for i in range(n)],
            "fiscal_year": pa.array([year] * n, pa.int32()),
            "_load_id": [f"load-{year}"] * n,
        },
        schema=SCHEMA,
    )
    table.overwrite(data, overwrite_filter=EqualTo("fiscal_year", year))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("None", None),
        ("", None),
        ("null", None),
        ([], None),
        (2024, [2024]),
        ("2024", [2024]),
        ([2025, 2024, 2024], [2024, 2025]),
        ("[2024, 2025]", [2024, 2025]),
        ("2024,2025", [2024, 2025]),
        (["2024"], [2024]),
    ],
)
def test_parse_fiscal_years(value, expected) -> None:
    assert parse_fiscal_years(value) == expected


def test_parse_fiscal_years_rejects_garbage() -> None:
    with pytest.raises(ValueError):
        parse_fiscal_years("twenty")
    with pytest.raises(ValueError):
        parse_fiscal_years(True)


def test_dataset_prunes_files_by_fiscal_year(env) -> None:
    settings = load_settings()
    catalog = open_catalog(settings)
    table = make_table(catalog)
    write_year(table, 2023, 3)
    write_year(table, 2024, 2)
    table = catalog.load_table("raw.events")

    only_2024 = iceberg_dataset(table, settings, [2024])
    assert isinstance(only_2024, pds.FileSystemDataset)
    assert len(only_2024.files) == 1 and "fiscal_year=2024" in only_2024.files[0]
    assert only_2024.to_table().column("fiscal_year").to_pylist() == [2024, 2024]

    everything = iceberg_dataset(table, settings, None)
    assert len(everything.files) == 2 and everything.count_rows() == 5

    # DuckDB scans the dataset lazily, with projection and filter pushdown
    con = duckdb.connect()
    con.register("events_df", only_2024)
    assert con.execute("select count(*), sum(value) from events_df where value > 0").fetchall() == [(1, 1.0)]


def test_dataset_of_empty_table_and_missing_years(env) -> None:
    settings = load_settings()
    catalog = open_catalog(settings)
    table = make_table(catalog)
    empty = iceberg_dataset(table, settings, None)
    assert isinstance(empty, pa.Table) and empty.num_rows == 0
    assert empty.schema.names == SCHEMA.names
    write_year(table, 2023, 1)
    table = catalog.load_table("raw.events")
    none_for_year = iceberg_dataset(table, settings, [2030])
    assert none_for_year.num_rows == 0 and none_for_year.schema.names == SCHEMA.names


def test_dataset_reads_old_files_after_a_column_is_added(env) -> None:
    settings = load_settings()
    catalog = open_catalog(settings)
    table = make_table(catalog)
    write_year(table, 2023, 2)
    with table.update_schema() as update:
        update.add_column("extra", StringType())
    table = catalog.load_table("raw.events")
    rows = iceberg_dataset(table, settings, None).to_table()
    assert "extra" in rows.schema.names and rows.column("extra").null_count == 2


def test_plugin_load_uses_meta_years_and_cli_vars_win(env, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings()
    catalog = open_catalog(settings)
    table = make_table(catalog)
    write_year(table, 2023, 3)
    write_year(table, 2024, 2)

    def config(**meta) -> SourceConfig:
        return SourceConfig(
            name="events",
            identifier="events",
            schema="raw",
            database=None,
            meta={"plugin": "iceberg_raw", **meta},
            tags=[],
        )

    plugin = Plugin(name="iceberg_raw", plugin_config={})
    monkeypatch.setattr(dbt_source, "fiscal_years_from_cli_vars", lambda: dbt_source._NOT_GIVEN)
    assert plugin.load(config(iceberg_table="raw.events", fiscal_years=[2024])).count_rows() == 2
    assert plugin.load(config(fiscal_years="None")).count_rows() == 5  # default {schema}.{identifier}
    assert plugin.load(config()).count_rows() == 5  # no meta, no --vars: all years

    monkeypatch.setattr(dbt_source, "fiscal_years_from_cli_vars", lambda: [2023])
    assert plugin.load(config(fiscal_years=[2024])).count_rows() == 3  # --vars wins
    assert plugin.load(config()).count_rows() == 3


def test_arrow_filesystem_for_s3_is_path_style(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings(
        {
            "CIVIC_HOME": "/tmp/unused",
            "CIVIC_WAREHOUSE": "s3://bucket/warehouse",
            "AWS_ENDPOINT_URL": "http://127.0.0.1:8333",
            "AWS_ACCESS_KEY_ID": "key",
            "AWS_SECRET_ACCESS_KEY": "secret",
            "AWS_REGION": "eu-west-1",
        }
    )
    fs = arrow_filesystem(settings, "s3://bucket/warehouse/raw/events")
    assert fs.type_name == "s3"
    assert fs.region == "eu-west-1"
    assert isinstance(arrow_filesystem(settings, "file:///tmp/x"), type(arrow_filesystem(settings, "/tmp/x")))
    assert dbt_source._fs_path("s3://bucket/a/b.parquet") == "bucket/a/b.parquet"
    assert dbt_source._fs_path("file:///tmp/a/b.parquet") == "/tmp/a/b.parquet"
