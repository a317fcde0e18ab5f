"""The data-use register (contracts.register): the repository's file is valid and lists
exactly the personal columns the contracts protect; a wrong one refuses a refresh."""

import copy

import pytest
import yaml

from contracts.entities import ENTITIES
from contracts.register import DEFAULT_REGISTER_FILE, RegisterError, parse_register, read_register
from orchestration.cli import main

DOC = yaml.safe_load(DEFAULT_REGISTER_FILE.read_text())


def test_the_register_lists_every_personal_column_with_its_protection():
    register = read_register(DEFAULT_REGISTER_FILE)
    for entity in ENTITIES.values():
        if entity.personal:
            assert register[entity.name].personal_fields == {c: p.spec for c, p in entity.personal.items()}
    assert register["survey_responses"].personal_fields == {"respondent_key": "pseudonym:respondent"}
    assert register["service_requests"].personal_fields["lat"] == "grid"


def _broken(change) -> dict:
    doc = copy.deepcopy(DOC)
    change(doc["datasets"])
    return doc


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["survey_responses"]["personal_fields"].pop("respondent_key"), "respondent_key is personal"),
        (lambda d: d["survey_responses"]["personal_fields"].update(nps="drop"), "nps is registered but"),
        (
            lambda d: d["service_requests"]["personal_fields"].update(lat="drop"),
            "registered as drop, ingestion applies grid",
        ),
        (lambda d: d.pop("survey_answers"), "survey_answers has personal columns but no entry"),
        (lambda d: d["survey_answers"].pop("legal_basis"), "lacks legal_basis"),
        (lambda d: d["survey_answers"].update(retention_years="forever"), "retention_years"),
        (lambda d: d.update(citizens=d["survey_answers"]), "'citizens' is not a known entity"),
    ],
)
def test_a_register_that_disagrees_is_refused(change, message):
    with pytest.raises(RegisterError, match=message):
        parse_register(_broken(change))


def test_a_refresh_with_a_broken_register_is_refused(civic_home, monkeypatch, capsys, tmp_path):
    path = tmp_path / "register.yml"
    path.write_text(yaml.safe_dump(_broken(lambda d: d["survey_responses"]["personal_fields"].clear())))
    monkeypatch.setenv("CIVIC_REGISTER", str(path))
    assert main(["refresh", "--years", "2024"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("civic refresh: ") and "respondent_key is personal" in err and err.count("\n") == 1


def _project(root, models: dict[str, str]):
    for path, sql in models.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(sql)
    return root


def test_data_use_follows_the_lineage_to_the_marts_that_name_a_personal_field(tmp_path):
    from lake.data_use import derive_data_use

    register = read_register(DEFAULT_REGISTER_FILE)
    models = _project(
        tmp_path,
        {
            "staging/stg_s.sql": "select response_id, respondent_key, satisfaction from {{ source('raw', 'survey_responses') }}",
            "intermediate/int_people.sql": "select count(distinct respondent_key) as n from {{ ref('stg_s') }}",
            "marts/people.sql": "select n from {{ ref('int_people') }}",  # via an intermediate model
            "marts/scores.sql": "-- respondent_key is not read here\nselect avg(satisfaction) from {{ ref('stg_s') }}",
        },
    )
    uses = derive_data_use(models, register)
    assert [(u.mart, u.dataset, u.personal_field, u.protection) for u in uses] == [
        ("people", "survey_responses", "respondent_key", "pseudonym:respondent")
    ]


def test_in_the_real_project_the_question_scores_and_the_repeat_requests_use_a_pseudonymised_column():
    from pathlib import Path

    from lake.data_use import derive_data_use

    models = Path(__file__).resolve().parents[1] / "dbt_project" / "models"
    uses = derive_data_use(models, read_register(DEFAULT_REGISTER_FILE))
    # respondents are counted (distinct pseudonyms); repeat requests are found by the
    # pseudonymised location (int_request_repeats); the scorecard, the request summary and
    # the other marts read the same datasets without any personal field
    assert [(u.mart, u.personal_field) for u in uses] == [
        ("request_hot_spots", "location"),
        ("request_workload", "location"),
        ("survey_question_scores", "respondent_key"),
    ]


def test_docs_trust_lists_every_personal_column_as_the_code_declares_it():
    """docs/trust.md's table is what scripts/personal_columns.py makes from the contracts
    and the register: every declared personal column, each once, with its protection."""
    from pathlib import Path

    from contracts.register import personal_columns, personal_columns_markdown

    register = read_register(DEFAULT_REGISTER_FILE)
    rows = personal_columns(register)
    declared = {(e.name, c) for e in ENTITIES.values() for c in e.personal}
    assert {(e, c) for e, c, *_ in rows if c != "-"} == declared and len(rows) == len(set(rows))
    assert {e for e, c, *_ in rows if c == "-"} == {e.name for e in ENTITIES.values() if not e.personal}
    assert ("survey_answers", "answer_id", "pseudonymised (keyed HMAC-SHA256, domain survey_answer)") in {
        r[:3] for r in rows
    }
    trust = (Path(__file__).resolve().parents[1] / "docs" / "trust.md").read_text()
    assert personal_columns_markdown(register) in trust
