"""The Government of Canada Service Inventory (si, ss, rbpo) ingests as published: counts per
entity and year, exact values and the oddities checked against the files themselves
(read here with the csv module), every source row accounted for, and the pure helpers."""

import csv
import json
from collections import Counter, defaultdict
from pathlib import Path

import polars as pl
import pytest

from contracts.entities import entity
from contracts.rules import LoadContext
from contracts.validate import BatchValidator
from ingestion.errors import SourceFileError
from ingestion.feeds import feed_kind
from ingestion.feeds.fiscal_labels import fiscal_year_end
from ingestion.feeds.gc_codes import channel_of, id_list, quoted_names, standard_id, target_share, volume_cell
from lake.catalog import open_catalog
from lake.settings import load_settings
from orchestration.load.flow import ingest_feed

REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"
FOLDER = REALDATA / "canada_gc_service_inventory"
SOURCE = "gc_service_inventory:canada_gc_service_inventory"
APPLICATIONS = {
    "num_applications_online": "online",
    "num_applications_by_phone": "phone",
    "num_applications_in_person": "in_person",
    "num_applications_by_mail": "mail",
    "num_applications_by_email": "email",
    "num_applications_by_fax": "fax",
    "num_applications_by_other": "other",
}
INTERACTIONS = {"num_phone_enquiries": ("phone", "phone_enquiry"), "num_website_visits": ("online", "website_visit")}
CODES = {
    "ONL": "online",
    "TEL": "phone",
    "PERSON": "in_person",
    "POST": "mail",
    "EML": "email",
    "FAX": "fax",
    "OTH": "other",
}


def _csv(name: str) -> list[dict]:
    with open(FOLDER / name, newline="", encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


def _end_year(label: str) -> int:
    """'2023-2024' -> 2024, written out here independently of the code under test."""
    start, end = label.split("-")
    assert int(end) == int(start) + 1
    return int(end)


def _number(cell: str) -> float | None:
    try:
        return float(cell)
    except ValueError:
        return None


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    """One ingest of the whole folder for the module (the files are a few MB)."""
    home = tmp_path_factory.mktemp("gc") / "civic"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CIVIC_HOME", str(home))
        for var in ("CIVIC_CATALOG_URI", "CIVIC_WAREHOUSE", "CIVIC_LANDING", "CIVIC_DUCKDB", "DAGSTER_HOME"):
            mp.delenv(var, raising=False)
        settings = load_settings()
        catalog = open_catalog(settings)
        records = ingest_feed(settings, catalog, "gc_service_inventory", str(FOLDER))
        tables = {}
        for name in ("services", "service_transactions", "service_standard_results", "ledger_entries"):
            rows = catalog.load_table(f"raw.{name}").scan().to_arrow().to_pylist()
            tables[name] = [r for r in rows if r["_source"] == SOURCE]
        quarantine = [
            q
            for q in catalog.load_table("quarantine.rejected_rows").scan().to_arrow().to_pylist()
            if q["source"] == SOURCE
        ]
        yield records, tables, quarantine


@pytest.fixture(scope="module")
def si():
    return _csv("si_2024.csv")


@pytest.fixture(scope="module")
def ss():
    return _csv("ss_2024.csv")


@pytest.fixture(scope="module")
def rbpo():
    return _csv("rbpo.csv")


def _quarantined(quarantine, name):
    return [(q, json.loads(q["row"])) for q in quarantine if q["entity"] == name]


# --- row accounting and counts ------------------------------------------------------


def test_every_load_balances_and_counts_per_year(lake, si, ss):
    records, tables, quarantine = lake
    for rec in records:
        assert rec.received == rec.loaded + rec.quarantined
    by = defaultdict(Counter)
    for rec in records:
        by[rec.table_name.split(".")[1]][rec.fiscal_year] += rec.received
    si_years = Counter(_end_year(r["fiscal_yr"]) for r in si)
    assert si_years[2024] == 1751 and si_years[2025] == 1  # 2023-2024 -> 2024
    # nine volume cells per si row, filed under the year the row states
    assert dict(by["service_transactions"]) == {y: 9 * n for y, n in si_years.items()}
    assert Counter(r["fiscal_year"] for r in tables["service_transactions"]) == {y: 9 * n for y, n in si_years.items()}
    assert dict(by["service_standard_results"]) == dict(Counter(_end_year(r["fiscal_yr"]) for r in ss))
    # the catalogue is filed under each fiscal year the ingest covers
    assert dict(by["services"]) == {2024: len(si), 2025: len(si)}


def test_services_catalogue_keeps_newest_copy_of_a_repeated_service(lake, si):
    _, tables, quarantine = lake
    repeated = [sid for sid, n in Counter(r["service_id"] for r in si).items() if n > 1]
    assert repeated == ["SRV02975"]
    rejects = _quarantined(quarantine, "services")
    assert sorted(q["fiscal_year"] for q, _ in rejects) == [2024, 2025]
    assert {row["service_id"] for _, row in rejects} == {"SRV02975"}
    assert {row["fiscal_yr"] for _, row in rejects} == {"2023-2024"}
    assert {q["message"] for q, _ in rejects} == {
        "service SRV02975 is also described for 2024-2025: the catalogue keeps that newest description"
        " (2023-2024 volumes are in service_transactions)"
    }
    for year in (2024, 2025):
        kept = [r for r in tables["services"] if r["fiscal_year"] == year and r["service_id"] == "SRV02975"]
        assert [r["fiscal_yr"] for r in kept] == ["2024-2025"]
        assert len([r for r in tables["services"] if r["fiscal_year"] == year]) == len({r["service_id"] for r in si})


# --- services -------------------------------------------------------------------------


def test_services_mapping_and_oddities(lake, si):
    _, tables, _ = lake
    raw = (FOLDER / "si_2024.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: the first header still reads fiscal_yr
    services = {r["service_id"]: r for r in tables["services"] if r["fiscal_year"] == 2024}
    for src in si:
        if src["fiscal_yr"] != "2023-2024":
            continue
        row = services[src["service_id"]]
        assert row["name"] == src["service_name_en"]
        assert row["service_name_fr"] == src["service_name_fr"]  # bilingual text as published
        assert row["agency"] == src["owner_org"] and row["owner_org_title"] == src["owner_org_title"]
        assert row["priority_area"] == "other"
        assert row["programme_id"] == ";".join(p.strip() for p in src["program_id"].split(","))
        assert row["program_id"] == src["program_id"]
        assert row["fee"] is None and row["service_fee"] == src["service_fee"]  # Y/N is no amount
        offered = [c for col, c in APPLICATIONS.items() if (_number(src[col]) or 0) > 0]
        order = ["online", "mobile", "phone", "in_person", "mail", "email", "fax", "other"]
        assert row["channels"] == (";".join(sorted(offered, key=order.index)) or None)
    # a comma list of programmes; names with commas and apostrophes in quoted lists
    multi = next(r for r in si if r["program_id"] == "BRA02,BRB01")
    assert services[multi["service_id"]]["programme_id"] == "BRA02;BRB01"
    assert services[multi["service_id"]]["program_names_en"] == "Returns Compliance;Benefits"
    comma = next(r for r in si if r["program_name_en"] == "'Infrastructure, Tolls and Export Applications'")
    assert "," not in comma["program_id"]  # one programme whose name holds a comma
    assert services[comma["service_id"]]["program_names_en"] == "Infrastructure, Tolls and Export Applications"
    apostrophe = next(r for r in si if r["program_id"] == "ISS06,ISS07")
    assert services[apostrophe["service_id"]]["program_names_fr"] == (
        "Services de gestion de l'information;Services de la technologie de l'information"
    )
    first = si[0]
    assert services[first["service_id"]]["owner_org_title_fr"] == first["owner_org_title"].split(" | ")[1]


def test_applications_total_against_channel_sum(lake, si):
    _, tables, _ = lake
    disagree = {
        r["service_id"]
        for r in si
        if sum(_number(r[c]) or 0 for c in APPLICATIONS) != float(r["num_applications_total"])
    }
    checks = Counter(r["applications_total_check"] for r in tables["services"] if r["fiscal_year"] == 2024)
    assert checks["disagrees"] == len(disagree) == 0  # in ss_2024/si_2024 they always agree
    assert checks["agrees"] == 1751


# --- service_transactions -----------------------------------------------------------------


def test_every_volume_cell_as_published(lake, si):
    _, tables, _ = lake
    got = {r["entry_id"]: r for r in tables["service_transactions"]}
    assert len(got) == 9 * len(si)
    cells = {**{c: (ch, "application") for c, ch in APPLICATIONS.items()}, **INTERACTIONS}
    statuses = Counter()
    for src in si:
        year = _end_year(src["fiscal_yr"])
        for column, (channel, kind) in cells.items():
            row = got[f"{year}-{src['service_id']}-{channel}-{kind}"]
            assert (row["fiscal_year"], row["service_id"], row["channel"], row["kind"]) == (
                year,
                src["service_id"],
                channel,
                kind,
            )
            assert row["volume_published"] == src[column] and row["volume_column"] == column
            assert row["volume"] == _number(src[column])  # NA / ND -> null, not zero
            assert row["num_applications_total"] == src["num_applications_total"]
            statuses[src[column] if _number(src[column]) is None else "number"] += 1
    assert set(statuses) == {"number", "NA", "ND"}  # the only markers the file uses
    marker = Counter(r["volume_status"] for r in tables["service_transactions"])
    assert marker["not_applicable"] == statuses["NA"] and marker["not_collected"] == statuses["ND"]


def test_one_service_channel_volumes(lake, si):
    _, tables, _ = lake
    src = si[0]  # ATSSC Law Library Services: numbers, NA and ND in one row
    rows = {
        (r["channel"], r["kind"]): r["volume"]
        for r in tables["service_transactions"]
        if r["service_id"] == src["service_id"]
    }
    assert rows[("email", "application")] == float(src["num_applications_by_email"])
    assert rows[("in_person", "application")] == float(src["num_applications_in_person"])
    assert rows[("phone", "application")] == float(src["num_applications_by_phone"])
    assert src["num_phone_enquiries"] == "ND" and rows[("phone", "phone_enquiry")] is None
    assert src["num_applications_by_fax"] == "NA" and rows[("fax", "application")] is None


# --- service_standard_results -----------------------------------------------------------


def test_standard_results_as_published(lake, ss):
    _, tables, quarantine = lake
    got = {r["result_id"]: r for r in tables["service_standard_results"]}
    placeholders = [
        r for r in ss if " " in r["service_standard_id"] or not any(ch.isdigit() for ch in r["service_standard_id"])
    ]
    assert {r["service_standard_id"] for r in placeholders} == {"NA", "Not Available", "No service standard ID"}
    assert len(got) == len(ss) - len(placeholders)
    assert all(float(r["target"]) <= 1 for r in ss if r["target"])  # shares, never percentages, in this file
    for src in ss:
        if src in placeholders:
            continue
        row = got[f"{_end_year(src['fiscal_yr'])}-{src['service_id']}-{src['service_standard_id']}"]
        assert row["standard_id"] == src["service_standard_id"]
        assert row["target"] == _number(src["target"])
        assert row["volume_meeting_target"] == _number(src["volume_meeting_target"])
        assert row["total_volume"] == _number(src["total_volume"])
        assert row["channel"] == CODES[src["channel"]] and row["source_channel"] == src["channel"]
        assert row["performance"] == src["performance"] and row["target_met"] == src["target_met"]
        assert row["standard_name"] == src["service_standard_en"]
    rejects = _quarantined(quarantine, "service_standard_results")
    assert sorted(row["service_standard_id"] for _, row in rejects) == sorted(
        r["service_standard_id"] for r in placeholders
    )
    assert {q["message"] for q, row in rejects} == {
        f"service_standard_id {row['service_standard_id']!r} is a placeholder, not a standard id" for _, row in rejects
    }
    # standard ids repeat across services: the result id names the service too
    reused = [sid for sid, n in Counter(r["service_standard_id"] for r in ss).items() if n > 1]
    assert len(reused) == 8


def test_one_standard(lake, ss):
    _, tables, _ = lake
    src = next(r for r in ss if r["service_standard_id"] == "3261")
    row = next(r for r in tables["service_standard_results"] if r["standard_id"] == "3261")
    assert (row["target"], row["volume_meeting_target"], row["total_volume"]) == (
        float(src["target"]),
        float(src["volume_meeting_target"]),
        float(src["total_volume"]),
    )
    assert row["channel"] == "phone" and row["standard_type"] == "timeliness" and row["type"] == src["type"] == "TML"


# --- ledger_entries from rbpo -------------------------------------------------------------


def _expected_entries(rbpo: list[dict]) -> dict[str, float | None]:
    """The documented rule, written out here: approved and executed in the report year,
    proposed next year from planned_spending_2, proposed in two years from
    planned_spending_3 unless next year's report plans that year."""
    ahead = {
        (_end_year(r["fy_ef"]) + 1, r["organization_id"], r["program_id"]) for r in rbpo if r["planned_spending_2"]
    }
    expected = {}
    for r in rbpo:
        year, org, prog = _end_year(r["fy_ef"]), r["organization_id"], r["program_id"]
        mine = {}
        if r["planned_spending_1"]:
            mine[f"{year}-{org}-{prog}-approved"] = float(r["planned_spending_1"])
        if r["actual_spending"]:
            mine[f"{year}-{org}-{prog}-executed"] = float(r["actual_spending"])
        if r["planned_spending_2"]:
            mine[f"{year + 1}-{org}-{prog}-proposed"] = float(r["planned_spending_2"])
        if r["planned_spending_3"] and (year + 2, org, prog) not in ahead:
            mine[f"{year + 2}-{org}-{prog}-proposed"] = float(r["planned_spending_3"])
        if not mine:
            mine[f"{year}-{org}-{prog}-approved"] = None
        assert not any(k in expected for k in mine)  # no entry id twice
        expected.update(mine)
    return expected


def test_ledger_every_rbpo_row_accounted(lake, rbpo):
    records, tables, quarantine = lake
    expected = _expected_entries(rbpo)
    loaded = {r["entry_id"]: r["amount"] for r in tables["ledger_entries"]}
    rejects = _quarantined(quarantine, "ledger_entries")
    assert loaded == {k: v for k, v in expected.items() if v is not None}
    assert sorted(row["entry_id"] for _, row in rejects) == sorted(k for k, v in expected.items() if v is None)
    assert [q["message"] for q, _ in rejects] == [
        "no planned or actual spending in this rbpo row (all four spending cells are blank)"
    ]
    # every source row gave at least one entry (loaded or quarantined)
    keys = {(r["fy_ef"], r["organization_id"], r["program_id"]) for r in tables["ledger_entries"]}
    keys |= {(row["fy_ef"], row["organization_id"], row["program_id"]) for _, row in rejects}
    assert keys == {(r["fy_ef"], r["organization_id"], r["program_id"]) for r in rbpo}
    received = sum(rec.received for rec in records if rec.table_name == "raw.ledger_entries")
    assert received == len(expected)
    per_year = Counter(int(k.split("-")[0]) for k in expected)
    assert {rec.fiscal_year: rec.received for rec in records if rec.table_name == "raw.ledger_entries"} == dict(
        per_year
    )


def test_one_programme_planned_actual_and_forecasts(lake, rbpo):
    _, tables, _ = lake
    mine = {r["fy_ef"]: r for r in rbpo if r["organization_id"] == "1" and r["program_id"] == "BWN01"}
    entries = {
        (r["fiscal_year"], r["phase"]): r
        for r in tables["ledger_entries"]
        if r["cost_centre"] == "1" and r["programme_id"] == "BWN01"
    }
    first = mine["2019-2020"]
    approved, executed = entries[(2020, "approved")], entries[(2020, "executed")]
    assert approved["amount"] == float(first["planned_spending_1"]) and approved["ftes"] == first["planned_ftes_1"]
    assert executed["amount"] == float(first["actual_spending"]) and executed["ftes"] == first["actual_ftes"]
    assert approved["currency"] == "CAD" and approved["service_id"] is None and approved["economic_class"] is None
    # FY2021 proposed: the 2019-2020 report's one-year-ahead plan
    assert entries[(2021, "proposed")]["amount"] == float(first["planned_spending_2"])
    # FY2022 proposed: the 2020-2021 report's one-year-ahead plan, not 2019-2020's two-year one
    assert entries[(2022, "proposed")]["amount"] == float(mine["2020-2021"]["planned_spending_2"])
    assert entries[(2022, "proposed")]["report_fiscal_year"] == "2021"
    assert float(first["planned_spending_3"]) != float(mine["2020-2021"]["planned_spending_2"])
    last = max(mine, key=_end_year)  # the last report plans two years past itself
    assert entries[(_end_year(last) + 2, "proposed")]["amount"] == float(mine[last]["planned_spending_3"])


def test_negative_spending_is_kept(lake, rbpo):
    _, tables, _ = lake
    negative = {
        f"{_end_year(r['fy_ef'])}-{r['organization_id']}-{r['program_id']}-executed"
        for r in rbpo
        if r["actual_spending"] and float(r["actual_spending"]) < 0
    }
    assert negative  # (the file also holds "-0.00", which is zero)
    assert {r["entry_id"] for r in tables["ledger_entries"] if r["phase"] == "executed" and r["amount"] < 0} == negative


# --- the contract on cells the real files do not hold -----------------------------------


def test_unknown_volume_text_is_quarantined_and_percent_targets_are_shares(tmp_path, si, ss):
    header = list(si[0])
    odd = dict(si[0], num_applications_online="12 approx", num_applications_by_mail="")
    with open(tmp_path / "si_test.csv", "w", newline="", encoding="utf-8-sig") as fh:
        w = csv.DictWriter(fh, header)
        w.writeheader()
        w.writerow(odd)
    with open(tmp_path / "ss_test.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, list(ss[0]))
        w.writeheader()
        w.writerow(dict(ss[0], target="90"))
    source = feed_kind("gc_service_inventory")
    batch = next(source.extract(str(tmp_path), "service_transactions"))[1]
    valid, rejects = BatchValidator(entity("service_transactions"), LoadContext(None)).validate(pl.from_arrow(batch))
    assert valid.height == 8 and rejects.height == 1
    assert rejects["message"][0] == "volume value '12 approx' could not be read as a number"
    mail = valid.filter(pl.col("volume_column") == "num_applications_by_mail")
    assert mail["volume"][0] is None and mail["volume_status"][0] == "blank"  # blank: reported as nothing
    batch = next(source.extract(str(tmp_path), "service_standard_results"))[1]
    valid, rejects = BatchValidator(entity("service_standard_results"), LoadContext(None)).validate(
        pl.from_arrow(batch)
    )
    assert rejects.height == 0 and valid["target"][0] == 0.9 and valid["target_scale"][0] == "percent"


def test_unreadable_locations_fail_by_name(tmp_path):
    source = feed_kind("gc_service_inventory")
    with pytest.raises(SourceFileError, match="holds no si_"):
        list(source.extract(str(tmp_path), "services"))
    (tmp_path / "si_bad.csv").write_text("fiscal_yr,name\n2023-2024,x\n", encoding="utf-8")
    with pytest.raises(SourceFileError, match="si_bad.csv.*service_id"):
        list(source.extract(str(tmp_path), "services"))


# --- pure helpers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "label, year",
    [
        ("2023-2024", 2024),
        ("2015-16", 2016),
        ("2015/16", 2016),
        ("1999-00", 2000),
        ("FY2024", 2024),
        ("2024", 2024),
        (" 2019-2020 ", 2020),
        ("2023-2025", None),
        ("", None),
        (None, None),
        ("ND", None),
    ],
)
def test_fiscal_year_end(label, year):
    assert fiscal_year_end(label) == year


def test_channel_codes_cover_the_dictionary():
    data = json.loads((FOLDER / "service_data_dict.json").read_text(encoding="utf-8"))
    std = next(r for r in data["resources"] if r["resource_name"] == "service-std")
    codes = next(f for f in std["fields"] if f["id"] == "channel")["choices"]
    assert {code: channel_of(code) for code in codes} == CODES
    assert channel_of("tel ") == "phone" and channel_of("XYZ") is None and channel_of(None) is None


def test_cell_helpers():
    assert volume_cell("12") == ("12", "reported")
    assert volume_cell("NA") == (None, "not_applicable") and volume_cell("nd") == (None, "not_collected")
    assert volume_cell(" ") == (None, "blank") and volume_cell("n/a") == ("n/a", "unreadable")
    assert id_list("BRA02, BRB01") == "BRA02;BRB01" and id_list("'ISS01','ISS02'") == "ISS01;ISS02"
    assert id_list("BXI03") == "BXI03" and id_list(" ") is None and id_list("A1,A1") == "A1"
    assert quoted_names("'Grain Quality', 'Grain Research'") == "Grain Quality;Grain Research"
    assert quoted_names("\"'Infrastructure, Tolls'\"") == "Infrastructure, Tolls"
    assert quoted_names("'Renvois', \"Produits d'origine\"") == "Renvois;Produits d'origine"
    assert quoted_names("Plain name") == "Plain name" and quoted_names("") is None
    assert target_share("0.9") == ("0.9", "share") and target_share("90") == ("0.9", "percent")
    assert target_share("1") == ("1", "share") and target_share("") == (None, "blank")
    assert target_share("250") == ("250", "share")  # left for the contract's 0..1 rule
    assert standard_id("STAN00003912") == "STAN00003912" and standard_id("Not Available") is None
    assert standard_id("NA") is None and standard_id("SRV03379") == "SRV03379"
