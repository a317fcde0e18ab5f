"""City of San Diego resident survey: one CSV row per respondent (`Num`, one column per
question, `ZIP`) and a dictionary CSV (question_number, question_text,
question_responses), as published on data.sandiego.gov.

Long form: one `survey_answers` row per respondent and rating question, so every
respondent row gives exactly one answer row per rating question. A rating question is
one the dictionary answers with the codes 1..5 and 9 ("Don't know"): 9 is score null
with dont_know true; a blank is an answer row with score and dont_know null (no answer).
Other columns (which services matter most, yes/no questions, demographics) are not
ratings and are not loaded: see docs/sources_kpi_survey.md.

The file has no per-respondent date: the survey date comes from
mappings/sandiego_surveys.csv (per file: survey id, date and why), or from a
`<file stem>.survey.json` beside the file (`{"survey_id": ..., "responded_at": ...}`).
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pyarrow as pa

from ingestion.errors import SourceFileError
from ingestion.feeds.base import (
    BATCH_ROWS,
    FeedKind,
    Reads,
    files_in,
    read_csv_records,
)

MAPPINGS = Path(__file__).resolve().parent / "mappings"
RATING_CODES = {"1", "2", "3", "4", "5", "9"}
DONT_KNOW = 9.0
NO_ZIP = {"", "99999", "00000"}
WEIGHT_NAMES = {"weight", "wt", "wgt", "final_weight"}
_CODE = re.compile(r"(?:^|,)\s*(\d+)\s*-\s*([^,]*)")


@cache
def question_services() -> dict[str, tuple[str, str]]:
    """question_id -> (service_id, service name): the questions that rate a city service."""
    with (MAPPINGS / "sandiego_questions.csv").open(encoding="utf-8", newline="") as f:
        return {r["question_id"]: (r["service_id"], r["service_name"]) for r in csv.DictReader(f)}


def survey_of(path: Path) -> tuple[str, str]:
    """(survey_id, responded_at) for a respondent file: a sidecar beats the default table."""
    sidecar = path.with_name(path.stem + ".survey.json")
    if sidecar.is_file():
        try:
            meta = json.loads(sidecar.read_text(encoding="utf-8"))
            return str(meta["survey_id"]), str(meta["responded_at"])
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise SourceFileError(str(sidecar), f'expected {{"survey_id": ..., "responded_at": ...}} ({err})') from err
    with (MAPPINGS / "sandiego_surveys.csv").open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            if row["file"] == path.name:
                return row["survey_id"], row["responded_at"]
    raise SourceFileError(
        str(path),
        "no survey date is known for this file (the rows carry none): add a row to "
        f"ingestion/feeds/mappings/sandiego_surveys.csv or put {sidecar.name} beside it "
        'with {"survey_id": ..., "responded_at": "YYYY-MM-DD"}',
    )


def dictionary_for(path: Path) -> Path:
    """The dictionary CSV beside a respondent file (the one sharing most of its name)."""
    candidates = [p for p in path.parent.glob("*.csv") if "dictionary" in p.name.lower()]
    if not candidates:
        raise SourceFileError(str(path), "no question dictionary (*dictionary*.csv) beside it")

    def shared(p: Path) -> int:
        n = 0
        for a, b in zip(p.name, path.name):
            if a != b:
                break
            n += 1
        return n

    return max(candidates, key=lambda p: (shared(p), p.name))


def rating_questions(dictionary: Path) -> dict[str, dict]:
    """question_id -> text, stem (the parent question) and scale, for the 1..5 + 9 questions."""
    header, rows = read_csv_records(dictionary)
    needed = {"question_number", "question_text", "question_responses"}
    if not needed <= set(header):
        raise SourceFileError(str(dictionary), f"dictionary columns {sorted(needed)} expected, found {header}")
    texts = {r["question_number"].strip(): (r["question_text"] or "").strip() for r in rows}
    out = {}
    for r in rows:
        qid = r["question_number"].strip()
        labels = {code: label.strip() for code, label in _CODE.findall(r["question_responses"] or "")}
        if set(labels) != RATING_CODES:
            continue
        out[qid] = {
            "text": texts[qid],
            "stem": texts.get(qid.split("_")[0]) if "_" in qid else None,
            "scale": f"1 {labels['1']} .. 5 {labels['5']}",
        }
    return out


def _answer(value: str | None) -> tuple[str | None, str | None]:
    """(score, dont_know) as text: 9 is don't know, blank is no answer; any other value is
    passed on as the score, for the contract to reject if it is not 1..5."""
    text = (value or "").strip()
    if not text:
        return None, None
    try:
        number = float(text)
    except ValueError:
        return text, None
    if number == DONT_KNOW:
        return None, "true"
    return text, ("false" if number in (1, 2, 3, 4, 5) else None)


def answer_batches(path: Path) -> Iterator[pa.RecordBatch]:
    survey_id, responded_at = survey_of(path)
    questions = rating_questions(dictionary_for(path))
    header, rows = read_csv_records(path)
    if "Num" not in header:
        raise SourceFileError(str(path), "no `Num` (respondent number) column")
    asked = [q for q in header if q in questions]
    if not asked:
        raise SourceFileError(str(path), "none of its columns is a rating question of the dictionary")
    by_lower = {h.lower(): h for h in header}
    zip_col = by_lower.get("zip")
    weight_col = next((by_lower[n] for n in WEIGHT_NAMES if n in by_lower), None)
    district_col = "Q28" if "Q28" in header else None
    services = question_services()
    per_batch = max(1, BATCH_ROWS // len(asked))
    for start in range(0, len(rows), per_batch):
        cols: dict[str, list] = {
            name: []
            for name in (
                "answer_id",
                "survey_id",
                "respondent_key",
                "question_id",
                "question_text",
                "service_id",
                "responded_at",
                "score",
                "dont_know",
                "weight",
                "area",
                "question_stem",
                "scale",
                "service_name",
                "zip",
                "council_district",
            )
        }
        for row in rows[start : start + per_batch]:
            num = (row.get("Num") or "").strip()
            key = f"{survey_id}/{num}" if num else None
            raw_zip = (row.get(zip_col) or "").strip() if zip_col else ""
            area = None if raw_zip in NO_ZIP else raw_zip
            weight = (row.get(weight_col) or "").strip() or None if weight_col else None
            district = (row.get(district_col) or "").strip() or None if district_col else None
            for qid in asked:
                score, dont_know = _answer(row.get(qid))
                q = questions[qid]
                service_id, service_name = services.get(qid, (None, None))
                cols["answer_id"].append(f"{key}/{qid}" if key else None)
                cols["survey_id"].append(survey_id)
                cols["respondent_key"].append(key)
                cols["question_id"].append(qid)
                cols["question_text"].append(q["text"])
                cols["service_id"].append(service_id)
                cols["responded_at"].append(responded_at)
                cols["score"].append(score)
                cols["dont_know"].append(dont_know)
                cols["weight"].append(weight)
                cols["area"].append(area)
                cols["question_stem"].append(q["stem"])
                cols["scale"].append(q["scale"])
                cols["service_name"].append(service_name)
                cols["zip"].append(raw_zip or None)
                cols["council_district"].append(district)
        yield pa.RecordBatch.from_pydict({k: pa.array(v, pa.string()) for k, v in cols.items()})


def respondent_files(location: str) -> list[Path]:
    return [p for p in files_in(location, (".csv",)) if "dictionary" not in p.name.lower()]


class SanDiegoSurveyKind(FeedKind):
    kind = "sandiego_survey"
    entities = ("survey_answers",)
    reads = {"survey_answers": Reads(respondent_files, lambda _, path: answer_batches(path))}
