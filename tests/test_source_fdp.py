"""Open Fiscal Data Packages (the Australian 2015-16 budget, Madrid's 2012-2015 approved
budgets) ingest as published: counts per year, amounts times the measure's factor, the
classifications, every row accounted for, all checked against the files themselves (read
here with csv/json); and the descriptor parser on both the array and the object forms."""

import csv
import json
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from ingestion.errors import SourceFileError
from ingestion.feeds import feed_kind
from ingestion.feeds.fdp import column_name, phase_of, scaled_amount
from ingestion.feeds.fdp_mappings import MAPPINGS, longest_prefix
from ingestion.feeds.fdp_package import find_dimension, parse_package
from lake.catalog import open_catalog
from lake.settings import load_settings
from orchestration.load.flow import ingest_feed

REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"
AU = REALDATA / "fdp_au-budget"
MADRID = REALDATA / "fdp_madrid-municipal-gastos"
AU_SOURCE = "fiscal_data_package:fdp_au-budget"
MADRID_SOURCE = "fiscal_data_package:fdp_madrid-municipal-gastos"
AU_YEARS = ["2014-15", "2015-16", "2016-17", "2017-18", "2018-19"]


def _csv(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    home = tmp_path_factory.mktemp("fdp") / "civic"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CIVIC_HOME", str(home))
        for var in ("CIVIC_CATALOG_URI", "CIVIC_WAREHOUSE", "CIVIC_LANDING", "CIVIC_DUCKDB", "DAGSTER_HOME"):
            mp.delenv(var, raising=False)
        settings = load_settings()
        catalog = open_catalog(settings)
        records = {
            AU_SOURCE: ingest_feed(settings, catalog, "fiscal_data_package", str(AU)),
            MADRID_SOURCE: ingest_feed(settings, catalog, "fiscal_data_package", str(MADRID)),
        }
        rows = catalog.load_table("raw.ledger_entries").scan().to_arrow().to_pylist()
        quarantine = catalog.load_table("quarantine.rejected_rows").scan().to_arrow().to_pylist()
        yield records, rows, quarantine


@pytest.fixture(scope="module")
def au():
    descriptor = json.loads((AU / "datapackage.json").read_text(encoding="utf-8"))
    return descriptor, _csv(AU / descriptor["resources"][0]["path"])


@pytest.fixture(scope="module")
def madrid():
    descriptor = json.loads((MADRID / "datapackage.json").read_text(encoding="utf-8"))
    return descriptor, _csv(MADRID / descriptor["resources"][0]["path"])


def _loaded(lake, source):
    return [r for r in lake[1] if r["_source"] == source]


def _rejected(lake, source):
    return [(q, json.loads(q["row"])) for q in lake[2] if q["source"] == source]


# --- Australia: wide fiscal-year measures -> long rows ----------------------------------------


def test_au_counts_per_year_and_accounting(lake, au):
    descriptor, rows = au
    assert list(descriptor["mapping"]["measures"]) == AU_YEARS  # the year is the measure's name
    records = lake[0][AU_SOURCE]
    for rec in records:
        assert rec.received == rec.loaded + rec.quarantined
    # one entry per (row, measure) with a value; 2014-15 -> 2015
    cells = {int(y[:4]) + 1: sum(1 for r in rows if r[y].strip()) for y in AU_YEARS}
    assert {rec.fiscal_year: rec.received for rec in records} == cells
    nfp = {int(y[:4]) + 1: sum(1 for r in rows if r[y].strip() == "nfp") for y in AU_YEARS}
    assert {rec.fiscal_year: rec.quarantined for rec in records} == nfp
    blank = sum(1 for r in rows for y in AU_YEARS if not r[y].strip())
    assert blank == 33 and sum(cells.values()) + blank == 5 * len(rows)
    # every source row is in the ledger, loaded or quarantined
    seen = {int(r["source_row"]) for r in _loaded(lake, AU_SOURCE)} | {
        int(row["source_row"]) for _, row in _rejected(lake, AU_SOURCE)
    }
    assert seen == set(range(1, len(rows) + 1))


def test_au_amounts_times_factor(lake, au):
    _, rows = au
    got = {r["entry_id"]: r for r in _loaded(lake, AU_SOURCE)}
    negatives = grouped = 0
    for number, src in enumerate(rows, start=1):
        for year in AU_YEARS:
            cell = src[year].strip()
            entry = got.get(f"au-budget:201505181230budget1516:{number}:{year}")
            if not cell or cell == "nfp":
                assert entry is None
                continue
            # the PBS tables are in AUD thousands; a dash is nil; some cells group digits
            expected = 0.0 if cell == "-" else float(Decimal(cell.replace(",", "")) * 1000)
            grouped += "," in cell
            assert entry["amount"] == expected and entry["amount_published"] == src[year]
            assert entry["fiscal_year"] == int(year[:4]) + 1 and entry["currency"] == "AUD"
            # codes and names are trimmed (some cells end in a space)
            assert (
                entry["programme_id"] == src["Program"].strip()
                and entry["cost_centre"] == src["Department/Agency"].strip()
            )
            assert entry["department_agency"] == src["Department/Agency"] and entry["v_2014_15"] == src["2014-15"]
            negatives += expected < 0
    assert negatives > 0  # adjustments below zero are amounts too
    assert grouped == 7  # '3,625' and the like in the 2014-15 column
    abs_row = rows[1]
    assert abs_row["Department/Agency"] == "Australian Bureau of Statistics"
    entry = got["au-budget:201505181230budget1516:2:2015-16"]
    assert entry["amount"] == int(abs_row["2015-16"]) * 1000 and entry["factor"] == "1000"


def test_au_phases_and_withheld_figures(lake, au):
    _, rows = au
    phases = {r["measure"]: r["phase"] for r in _loaded(lake, AU_SOURCE)}
    assert phases == {
        "2014-15": "adjusted",
        "2015-16": "proposed",
        "2016-17": "proposed",
        "2017-18": "proposed",
        "2018-19": "proposed",
    }
    assert {r["phase_basis"] for r in _loaded(lake, AU_SOURCE)} == {"mappings/fdp_measures.csv"}
    rejects = _rejected(lake, AU_SOURCE)
    assert len(rejects) == sum(1 for r in rows for y in AU_YEARS if r[y].strip() == "nfp")
    assert {q["message"] for q, _ in rejects} == {
        f"{y} is 'nfp': not for publication, the publisher withholds the figure" for y in AU_YEARS
    }
    assert all(row["amount_status"] == "not_for_publication" for _, row in rejects)
    # no function column in the file: no COFOG division is claimed
    assert {r["cofog_division"] for r in _loaded(lake, AU_SOURCE)} == {None}


# --- Madrid: programme x economic x organisation, one measure ---------------------------------


def test_madrid_counts_amounts_and_classifications(lake, madrid):
    descriptor, rows = madrid
    measure = descriptor["mapping"]["measures"]["amount"]
    assert (measure["currency"], measure["factor"], measure["phase"]) == ("EUR", 1, "approved")
    records = lake[0][MADRID_SOURCE]
    assert {rec.fiscal_year: rec.received for rec in records} == dict(Counter(int(r["AÑO"]) for r in rows))
    assert all(rec.quarantined == 0 for rec in records)
    got = {int(r["source_row"]): r for r in _loaded(lake, MADRID_SOURCE)}
    assert len(got) == len(rows)
    classes = {"1": "personnel", "2": "operating", "4": "transfer", "7": "transfer", "6": "capital"}
    for number, src in enumerate(rows, start=1):
        entry = got[number]
        assert entry["amount"] == float(src["IMPORTE"]) and entry["fiscal_year"] == int(src["AÑO"])
        assert entry["programme_id"] == src["PROGRAMA"]  # leading zeros kept: codes are text
        assert entry["cost_centre"] == f"{src['CENTRO']}.{src['SECCION']}"
        assert entry["economic_code"] == f"{src['CAPITULO']}.{src['ECONOMICO']}"
        assert entry["economic_class"] == classes.get(src["CAPITULO"])
        assert (entry["phase"], entry["currency"], entry["direction"]) == ("approved", "EUR", "expenditure")
        assert entry["descripcion_programa"] == src["DESCRIPCION PROGRAMA"]  # accents as published
    first = rows[0]
    assert first["CENTRO"] == "001" and got[1]["centro"] == "001"
    assert got[1]["amount"] == int(first["IMPORTE"]) and got[1]["ano"] == first["AÑO"]


def test_madrid_economic_mapping_matches_the_file_labels(madrid):
    _, rows = madrid
    with open(MAPPINGS / "fdp_economic.csv", newline="", encoding="utf-8") as fh:
        mapping = {r["code"]: r for r in csv.DictReader(fh) if r["source"] == "madrid-municipal-gastos"}
    for code, label in {(r["CAPITULO"], r["DESCRIPCION CAPITULO"]) for r in rows}:
        assert mapping[code]["note"].startswith(label + ":"), (code, label)


def test_madrid_cofog_coverage(lake, madrid):
    _, rows = madrid
    with open(MAPPINGS / "fdp_cofog.csv", newline="", encoding="utf-8") as fh:
        table = {
            r["programme"]: r["cofog_division"] for r in csv.DictReader(fh) if r["source"] == "madrid-municipal-gastos"
        }

    def division(code: str) -> str | None:
        for end in range(len(code), 0, -1):
            if code[:end] in table:
                return table[code[:end]] or None
        return None

    got = {int(r["source_row"]): r["cofog_division"] for r in _loaded(lake, MADRID_SOURCE)}
    assert got == {n: division(r["PROGRAMA"]) for n, r in enumerate(rows, start=1)}
    covered = sum(1 for v in got.values() if v)
    assert covered / len(rows) > 0.95
    by_programme = {r["PROGRAMA"]: got[n] for n, r in enumerate(rows, start=1)}
    assert by_programme["91100"] == "01"  # SECRETARÍA GENERAL DEL PLENO: executive organs
    assert {by_programme[p] for p in by_programme if p.startswith("32")} == {"09"}  # education


def test_two_packages_keep_their_own_rows(lake, au, madrid):
    assert len(_loaded(lake, AU_SOURCE)) + len(_rejected(lake, AU_SOURCE)) == sum(
        1 for r in au[1] for y in AU_YEARS if r[y].strip()
    )
    assert len(_loaded(lake, MADRID_SOURCE)) == len(madrid[1])
    assert all(r["service_id"] is None and r["channel"] is None for r in lake[1])


# --- unreadable packages -----------------------------------------------------------------------


def test_unreadable_packages_fail_by_name(tmp_path):
    source = feed_kind("fiscal_data_package")
    with pytest.raises(SourceFileError, match="no datapackage.json"):
        list(source.extract(str(tmp_path), "ledger_entries"))
    (tmp_path / "datapackage.json").write_text(json.dumps({"name": "x", "resources": [{"path": "d.csv"}]}))
    with pytest.raises(SourceFileError, match="no `model`"):
        list(source.extract(str(tmp_path), "ledger_entries"))
    descriptor = {
        "name": "x",
        "resources": [{"name": "d", "path": "d.csv"}],
        "model": {
            "measures": {"amount": {"source": "AMOUNT", "currency": "EUR", "phase": "approved"}},
            "dimensions": {},
        },
    }
    (tmp_path / "datapackage.json").write_text(json.dumps(descriptor))
    (tmp_path / "d.csv").write_text("YEAR,TOTAL\n2020,5\n")
    with pytest.raises(SourceFileError, match="d.csv.*AMOUNT"):
        list(source.extract(str(tmp_path), "ledger_entries"))


# --- the descriptor parser: spec drafts side by side ------------------------------------------

ARRAY_FORM = {  # 0.3 drafts: `mapping` with arrays, dimension `fields`
    "name": "city-budget",
    "resources": [{"name": "budget", "path": "budget.csv", "schema": {"fields": [{"name": "amt"}]}}],
    "mapping": {
        "measures": [{"name": "amount", "source": "amt", "currency": "USD", "factor": 1000, "phase": "executed"}],
        "dimensions": [
            {
                "name": "program",
                "dimensionType": "project",
                "fields": [
                    {"name": "id", "source": "prog"},
                    {"name": "title", "source": "prog_name", "labelfor": "id"},
                ],
                "primaryKey": "id",
            },
            {
                "name": "date",
                "dimensionType": "datetime",
                "fields": [{"name": "year", "source": "fy"}],
                "primaryKey": ["year"],
            },
        ],
    },
}
OBJECT_FORM = {  # 1.0 and the openspending demos: `model` with objects keyed by name
    "name": "city-budget",
    "resources": [{"name": "budget", "path": "budget.csv"}],
    "model": {
        "measures": {"amount": {"source": "amt", "currency": "USD", "factor": 1000, "phase": "executed"}},
        "dimensions": {
            "program": {
                "dimensionType": "project",
                "attributes": {"id": {"source": "prog"}, "title": {"source": "prog_name", "labelfor": "id"}},
                "primaryKey": "id",
            },
            "date": {"dimensionType": "datetime", "attributes": {"year": {"source": "fy"}}, "primaryKey": ["year"]},
        },
    },
}


def test_parse_array_and_object_forms_alike():
    a, b = parse_package(ARRAY_FORM), parse_package(OBJECT_FORM)
    assert a.measures == b.measures and a.dimensions == b.dimensions
    m = a.measures[0]
    assert (m.name, m.source, m.currency, m.factor, m.phase, m.year) == (
        "amount",
        "amt",
        "USD",
        "1000",
        "executed",
        None,
    )
    programme = find_dimension(a, "programme")
    assert programme.key_sources() == ["prog"] and programme.label_source() == "prog_name"
    assert find_dimension(b, "date").key_sources() == ["fy"]
    assert find_dimension(a, "economic") is None


def test_parse_real_descriptors(au, madrid):
    package = parse_package(au[0])
    assert [(m.name, m.year, m.factor, m.phase) for m in package.measures] == [
        (y, int(y[:4]) + 1, None, None) for y in AU_YEARS
    ]
    assert find_dimension(package, "programme").key_sources() == ["Program"]
    assert find_dimension(package, "administrative").key_sources() == ["Department/Agency"]
    package = parse_package(madrid[0])
    assert find_dimension(package, "administrative").key_sources() == ["CENTRO", "SECCION"]
    assert find_dimension(package, "administrative").label_source() == "DESCRIPCION SECCION"
    assert find_dimension(package, "economic").key_sources() == ["CAPITULO", "ECONOMICO"]
    assert find_dimension(package, "programme").key_sources() == ["PROGRAMA"]
    assert find_dimension(package, "date").key_sources() == ["AÑO"]
    assert package.country == "ES" and package.fiscal_year is None  # 2012-2015 spans four years


def test_parse_measure_year_and_single_year_period():
    package = parse_package(
        {
            "name": "p",
            "fiscalPeriod": "2015-07-01/2016-06-30",
            "resources": [{"path": "a.csv"}],
            "model": {"measures": {"m": {"source": "x", "currency": "AUD", "fiscalYear": "2019-20"}}},
        }
    )
    assert package.fiscal_year == 2016 and package.measures[0].year == 2020
    with pytest.raises(ValueError, match="no measures"):
        parse_package({"name": "p", "resources": [{"path": "a.csv"}], "model": {"measures": []}})


def test_amount_and_name_helpers():
    assert scaled_amount("1185.8814", Decimal(1000)) == ("1185881.4", "reported")
    assert scaled_amount("-14", Decimal(1000)) == ("-14000", "reported")
    assert scaled_amount("- ", Decimal(1000)) == ("0", "nil")
    assert scaled_amount("", Decimal(1)) == (None, "blank")
    assert scaled_amount("nfp", Decimal(1000)) == ("nfp", "not_for_publication")
    assert scaled_amount("1,234,567", Decimal(1)) == ("1234567", "reported")
    assert scaled_amount("12 approx", Decimal(1)) == ("12 approx", "unreadable")
    assert phase_of("Approved") == "approved" and phase_of("actual") == "executed" and phase_of("draft") == "draft"
    assert phase_of(None) is None
    assert column_name("Department/Agency") == "department_agency" and column_name("AÑO") == "ano"
    assert column_name("2014-15") == "v_2014_15" and column_name("DESCRIPCION CENTRO") == "descripcion_centro"
    assert longest_prefix({"13": ("03", ""), "133": ("04", "")}, "13301").value == "04"
    assert longest_prefix({"13": ("03", "")}, "13401").key == "13" and longest_prefix({}, "1") is None
