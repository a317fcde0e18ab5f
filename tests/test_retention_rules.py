"""Retention cutoffs from the register (lake.retention) and the rows an erasure selects
(lake.erasure): pure functions over Arrow tables."""

import datetime as dt

import pyarrow as pa

from contracts.fiscal_year import FiscalCalendar
from contracts.register import DEFAULT_REGISTER_FILE, read_register
from lake.erasure import pseudonym_columns, pseudonym_selections, year_selections
from lake.retention import first_kept_years


def test_a_year_is_kept_until_retention_years_after_it_ends():
    register = read_register(DEFAULT_REGISTER_FILE)
    years = first_kept_years(register, FiscalCalendar(1), dt.date(2026, 12, 7))
    # 7 years: FY2018 ended 2018-12-31, before 2019-12-07 -> removed; FY2019 kept
    assert years == {"survey_responses": 2019, "survey_answers": 2019, "service_requests": 2019}
    # an April fiscal year: 2019-03-31 falls in FY2019 (Apr 2018 - Mar 2019)
    assert first_kept_years(register, FiscalCalendar(4), dt.date(2026, 3, 31))["survey_answers"] == 2019
    assert first_kept_years(register, FiscalCalendar(1), dt.date(2028, 2, 29))["survey_answers"] == 2021


def test_the_pseudonym_columns_are_those_the_register_pseudonymises():
    columns = pseudonym_columns(read_register(DEFAULT_REGISTER_FILE))
    assert columns == {
        "survey_responses": ["respondent_key"],
        "survey_answers": ["answer_id", "respondent_key"],
        "service_requests": ["address", "address_id", "location"],
    }


def test_an_erasure_selects_the_rows_naming_the_pseudonym_and_nothing_else():
    register = read_register(DEFAULT_REGISTER_FILE)
    (sel,) = [s for s in pseudonym_selections(register, "p1:aa") if s.entity == "survey_answers"]
    rows = pa.table({"respondent_key": ["p1:aa", "p1:bb", None], "answer_id": ["p1:x", "p1:aa", "p1:y"]})
    assert sel.raw_mask(rows).to_pylist() == [True, True, False]
    quarantined = pa.table({"row": ['{"respondent_key": "p1:aa"}', '{"respondent_key": "p1:aab"}', None]})
    # a quarantined row is text: the pseudonym anywhere in it (a longer one holds it too,
    # but pseudonyms all have the same length)
    assert sel.quarantine_mask(quarantined).to_pylist() == [True, True, False]
    (old,) = year_selections({"survey_answers": 2019})
    assert [old.years(y) for y in (2018, 2019, None)] == [True, False, False]


def _entry(seq: int, loaded: int, quarantined: int, erased: int | None = None, year: int = 2025) -> dict:
    return {
        "seq": seq,
        "load_id": f"l{seq}",
        "table_name": "raw.survey_responses",
        "fiscal_year": year,
        "source": "landing",
        "loaded": loaded,
        "quarantined": quarantined,
        "erased": erased,
    }


def test_verify_checks_that_an_erasure_accounts_for_the_rows_it_removed():
    from lake.verify import Verification, _check_removals

    def problems(entries):
        out = Verification()
        _check_removals(entries, out)
        return out.problems

    assert problems([_entry(1, 10, 2), _entry(2, 9, 1, erased=2), _entry(3, 9, 0, erased=1)]) == []
    (wrong,) = problems([_entry(1, 10, 2), _entry(2, 9, 2, erased=2)])
    assert wrong.endswith("says it removed 2 rows, but the partition held 12 rows before it and 11 after")
    (orphan,) = problems([_entry(1, 10, 2), _entry(2, 0, 0, erased=3, year=2024)])
    assert orphan.endswith("removes 3 rows from a partition no load made")


def test_the_erased_count_is_chained_without_changing_the_hash_of_older_entries():
    from lake.ledger_chain import entry_hash

    old = {k: v for k, v in _entry(1, 10, 2).items() if k != "erased"}
    assert entry_hash(old) == entry_hash({**old, "erased": None}) != entry_hash({**old, "erased": 1})
