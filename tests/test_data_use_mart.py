"""marts.data_use: the register and the lineage landed as reference tables and joined by dbt.
A mart that reads a pseudonymised column is listed, one that reads the same dataset but no
personal field is not; the mart is published like the others (marts-only file, Iceberg)."""

import duckdb
import pytest

from contracts.register import DEFAULT_REGISTER_FILE, read_register
from lake.data_use import LINEAGE_TABLE, REGISTER_TABLE, land_data_use


@pytest.fixture(scope="module")
def demo_lake(demo_build):
    from lake.catalog import open_catalog
    from lake.settings import load_settings

    home, _, _ = demo_build
    with pytest.MonkeyPatch.context() as mp:
        from tests.conftest import use_home

        use_home(mp, home)
        settings = load_settings()
        yield settings, open_catalog(settings)


def test_the_data_use_mart_lists_the_marts_reading_a_pseudonymised_column(demo_lake):
    settings, catalog = demo_lake
    with duckdb.connect(str(settings.marts_path), read_only=True) as con:
        rows = con.execute("select * from marts.data_use order by mart, dataset, personal_field").fetchall()
        columns = [d[0] for d in con.description]
        readers = {m for (m,) in con.execute("select distinct table_name from information_schema.tables").fetchall()}
    registered = read_register(DEFAULT_REGISTER_FILE)
    register, requests = registered["survey_answers"], registered["service_requests"]
    assert columns == [
        "mart",
        "dataset",
        "personal_field",
        "protection",
        "purpose",
        "legal_basis",
        "retention_years",
        "readers",
    ]
    # survey_question_scores counts distinct respondent pseudonyms and the request marts
    # find repeats by the pseudonymised location: listed; the scorecard reads survey
    # responses but no personal field of them: not listed
    repeats = ("pseudonym:address", requests.purpose, requests.legal_basis, requests.retention_years)
    assert rows == [
        ("request_hot_spots", "service_requests", "location", *repeats, "analysts, governance"),
        ("request_workload", "service_requests", "location", *repeats, "analysts, governance"),
        (
            "survey_question_scores",
            "survey_answers",
            "respondent_key",
            "pseudonym:respondent",
            register.purpose,
            register.legal_basis,
            register.retention_years,
            "analysts, governance",
        ),
    ]
    assert "scorecard" in readers and "scorecard" not in {r[0] for r in rows}
    published = catalog.load_table("marts.data_use").scan().to_arrow().to_pylist()
    assert sorted((r["mart"], r["personal_field"]) for r in published) == [
        ("request_hot_spots", "location"),
        ("request_workload", "location"),
        ("survey_question_scores", "respondent_key"),
    ]


def test_landing_replaces_both_reference_tables_whole(lake):
    _, catalog = lake
    register = read_register(DEFAULT_REGISTER_FILE)
    fields = sum(len(use.personal_fields) for use in register.values())
    assert land_data_use(catalog, register) == (fields, 3)
    assert land_data_use(catalog, {"survey_answers": register["survey_answers"]}) == (2, 1)
    landed = catalog.load_table(REGISTER_TABLE).scan().to_arrow().to_pylist()
    assert sorted(r["personal_field"] for r in landed) == ["answer_id", "respondent_key"]
    assert catalog.load_table(LINEAGE_TABLE).scan().to_arrow().to_pylist() == [
        {"mart": "survey_question_scores", "dataset": "survey_answers", "personal_field": "respondent_key"}
    ]
