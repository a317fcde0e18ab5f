"""San Diego resident survey (../shared/realdata) into survey_answers: one row per
respondent and rating question, checked against the CSV and its dictionary read here
with csv; don't know, blanks, bad codes, the survey date and file-level failures."""

import csv
import datetime as dt
import json
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from conftest import REALDATA, expected_pseudonym
from pyiceberg.expressions import EqualTo

from ingestion.errors import SourceFileError
from orchestration.load.flow import ingest_feed

FOLDER = REALDATA / "sandiego_resident_survey"
ANSWERS = FOLDER / "resident_survey_weighted_datasd.csv"
DICTIONARY = FOLDER / "resident_survey_dictionary_datasd.csv"
MAPPINGS = Path(__file__).resolve().parents[1] / "ingestion" / "feeds" / "mappings"


def _read(path: Path) -> list[dict]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def _rating_questions() -> dict[str, str]:
    """Dictionary entries answered 1..5 or 9 = Don't know -> their text."""
    out = {}
    for r in _read(DICTIONARY):
        codes = set(re.findall(r"(\d+) - ", r["question_responses"]))
        if codes == {"1", "2", "3", "4", "5", "9"}:
            out[r["question_number"]] = r["question_text"]
    return out


def _table(catalog, source: str) -> pa.Table:
    return catalog.load_table("raw.survey_answers").scan(row_filter=EqualTo("_source", source)).to_arrow()


def _loaded(catalog, source: str) -> list[dict]:
    return _table(catalog, source).to_pylist()


def test_every_respondent_gives_one_row_per_rating_question(lake):
    settings, catalog = lake
    records = ingest_feed(settings, catalog, "sandiego_survey", str(FOLDER))
    respondents = _read(ANSWERS)
    questions = {q: t for q, t in _rating_questions().items() if q in respondents[0]}
    assert len(respondents) == 2477 and len(questions) == 94
    for rec in records:
        assert rec.received == rec.loaded + rec.quarantined
    assert sum(r.received for r in records) == len(respondents) * len(questions)
    assert sum(r.quarantined for r in records) == 0
    table = _table(catalog, "sandiego_survey:sandiego_resident_survey")
    assert table.num_rows == len(respondents) * len(questions)
    per_respondent = table.group_by("respondent_key").aggregate([("question_id", "count")])
    assert per_respondent.num_rows == len(respondents)
    assert set(per_respondent["question_id_count"].to_pylist()) == {len(questions)}
    dont_knows = sum(r[q] == "9" for r in respondents for q in questions)
    assert pc.sum(table["dont_know"]).as_py() == dont_knows
    blanks = sum(not r[q].strip() for r in respondents for q in questions)
    assert pc.sum(pc.is_null(table["score"])).as_py() == dont_knows + blanks

    [survey] = [s for s in _read(MAPPINGS / "sandiego_surveys.csv") if s["file"] == ANSWERS.name]
    first = respondents[0]
    resp, qid = next((r, q) for r in respondents for q in questions if r[q] == "9")
    no_zip = next(r for r in respondents if r["ZIP"] == "99999")
    clear = [f"{survey['survey_id']}/{r['Num']}" for r in (first, resp, no_zip)]
    keys = [expected_pseudonym("respondent", k) for k in clear]  # pseudonymised at the door
    picked = table.filter(pc.is_in(table["respondent_key"], pa.array(keys))).to_pylist()
    by_key = {(r["respondent_key"], r["question_id"]): r for r in picked}
    key = keys[0]
    row = by_key[(key, "Q3_11")]
    assert row["score"] == int(first["Q3_11"]) and row["dont_know"] is False
    assert row["question_text"] == questions["Q3_11"] == "Police services"
    assert row["service_id"] == "police" and row["service_name"] == "Police services"
    assert row["answer_id"] == expected_pseudonym("survey_answer", f"{clear[0]}/Q3_11")
    assert row["survey_id"] == survey["survey_id"]
    assert row["area"] == first["ZIP"] and row["weight"] is None  # the file has no weight column
    assert row["responded_at"] == dt.datetime.fromisoformat(survey["responded_at"])
    assert by_key[(key, "Q1_1")]["service_id"] is None  # "as a place to live" rates no one service
    # a 9 is "don't know": no score
    dk = by_key[(keys[1], qid)]
    assert dk["score"] is None and dk["dont_know"] is True
    # 99999 is the survey's "no ZIP given"
    assert by_key[(keys[2], "Q3_11")]["area"] is None


def test_blank_bad_code_and_a_stated_survey_date(lake, tmp_path):
    settings, catalog = lake
    respondents = _read(ANSWERS)[:3]
    respondents[0]["Q3_1"] = ""  # no answer
    respondents[1]["Q3_2"] = "7"  # not on the scale
    name = "resident_survey_2016_datasd.csv"
    with (tmp_path / name).open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(respondents[0]))
        writer.writeheader()
        writer.writerows(respondents)
    (tmp_path / DICTIONARY.name).write_bytes(DICTIONARY.read_bytes())
    (tmp_path / "resident_survey_2016_datasd.survey.json").write_text(
        json.dumps({"survey_id": "sd_2016", "responded_at": "2016-12-01"})
    )
    records = ingest_feed(settings, catalog, "sandiego_survey", str(tmp_path), name="sd_test")
    n_questions = sum(q in respondents[0] for q in _rating_questions())
    assert sum(r.received for r in records) == 3 * n_questions
    assert sum(r.quarantined for r in records) == 1
    rows = {(r["respondent_key"], r["question_id"]): r for r in _loaded(catalog, "sd_test")}
    assert len(rows) == 3 * n_questions - 1
    blank = rows[(expected_pseudonym("respondent", f"sd_2016/{respondents[0]['Num']}"), "Q3_1")]
    assert blank["score"] is None and blank["dont_know"] is None
    assert blank["responded_at"] == dt.datetime(2016, 12, 1)
    [bad] = catalog.load_table("quarantine.rejected_rows").scan().to_arrow().to_pylist()
    assert bad["column"] == "score" and "'7'" in bad["message"]
    # quarantined with its personal fields already pseudonymised
    quarantined = json.loads(bad["row"])
    assert quarantined["answer_id"] == expected_pseudonym("survey_answer", f"sd_2016/{respondents[1]['Num']}/Q3_2")
    assert quarantined["respondent_key"] == expected_pseudonym("respondent", f"sd_2016/{respondents[1]['Num']}")


def test_a_survey_without_a_known_date_fails_naming_the_file(lake, tmp_path):
    settings, catalog = lake
    (tmp_path / "resident_survey_2019_datasd.csv").write_bytes(ANSWERS.read_bytes())
    (tmp_path / DICTIONARY.name).write_bytes(DICTIONARY.read_bytes())
    with pytest.raises(SourceFileError, match="resident_survey_2019_datasd.csv.*no survey date"):
        ingest_feed(settings, catalog, "sandiego_survey", str(tmp_path), name="sd_undated")
    assert not catalog.table_exists("raw.survey_answers")


def test_answers_without_their_dictionary_fail(lake, tmp_path):
    settings, catalog = lake
    (tmp_path / ANSWERS.name).write_bytes(ANSWERS.read_bytes())
    with pytest.raises(SourceFileError, match="no question dictionary"):
        ingest_feed(settings, catalog, "sandiego_survey", str(tmp_path), name="sd_nodict")
