"""The public page on personal data (report/data_use.py) of the site `civic demo` leaves:
its rows are the rows of marts.data_use and of the data-use register, read here directly,
and no personal value (a clear citizen id, a pseudonym) is on the page or in the site."""

from __future__ import annotations

import re

import duckdb
import yaml
from personal_scan import files_holding
from site_pages import parse

from contracts.entities import ENTITIES
from contracts.register import DEFAULT_REGISTER_FILE
from report.data_use import COLUMNS_CAPTION, REGISTER_CAPTION, USES_CAPTION

PSEUDONYM = re.compile(r"p\d+:[0-9a-f]{64}")


def test_the_page_shows_every_row_of_the_mart_and_the_register(demo_build):
    home, _, _ = demo_build
    root = home / "report"
    page = parse(root / "data-use.html")
    with duckdb.connect(str(home / "lakehouse.duckdb"), read_only=True) as con:
        cur = con.execute("select * from marts.data_use order by mart, dataset, personal_field")
        cols = [d[0] for d in cur.description]
        mart = [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
    assert mart, "the demo's marts use a personal field (survey_question_scores)"
    shown = page.tables[USES_CAPTION]
    assert [{c: r[c] for c in cols} for r in shown] == [{c: str(v) for c, v in r.items()} for r in mart]

    doc = yaml.safe_load(DEFAULT_REGISTER_FILE.read_text())["datasets"]  # the file itself
    register = {r["dataset"]: r for r in page.tables[REGISTER_CAPTION]}
    assert set(register) == set(doc)
    for name, entry in doc.items():
        assert register[name]["purpose"] == entry["purpose"] and register[name]["legal_basis"] == entry["legal_basis"]
        assert register[name]["retention_years"] == str(entry["retention_years"])
        assert register[name]["readers"] == ", ".join(entry["readers"])
    listed = {(r["dataset"], r["column"]): r["protection"] for r in page.tables[COLUMNS_CAPTION]}
    for name, entry in doc.items():
        for column, spec in entry["personal_fields"].items():
            word = {"grid": "coarsened", "drop": "dropped"}.get(spec, f"domain {spec.removeprefix('pseudonym:')}")
            assert word in listed[(name, column)], (name, column)
    assert {d for d, c in listed if c == "-"} == {e.name for e in ENTITIES.values() if not e.personal}

    about = parse(root / "about.html")
    assert "data-use.html" in about.links and "data-use.html" in parse(root / "index.html").links
    assert (root / "data" / "data_use" / "data_use.csv").is_file()  # the open-data package has it
    assert "data_use/data_use.csv" in (root / "data" / "SHA256SUMS").read_text()


def test_no_personal_value_is_on_the_page_or_the_site(demo_build):
    home, _, _ = demo_build
    root = home / "report"
    text = (root / "data-use.html").read_text(encoding="utf-8")
    assert "respondent_key" in text  # the field is named ...
    assert not PSEUDONYM.search(text) and "CIT-" not in text  # ... its values are not
    assert files_holding(root, ["CIT-"]) == {}
    assert [p for p in root.rglob("*") if p.is_file() and PSEUDONYM.search(p.read_bytes().decode("latin-1"))] == []
