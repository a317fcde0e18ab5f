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
    assert err.startswith("refresh refused: ") and "respondent_key is personal" in err and err.count("\n") == 1
