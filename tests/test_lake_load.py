"""Loads into the lake: atomic per-year replacement, row accounting, quarantine, refusals."""

import dataclasses
import datetime as dt

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from contracts.errors import ContractError
from ingestion.errors import SourceFileError
from lake.catalog import open_catalog
from lake.commit import partition_filter
from lake.counts import partition_rows
from lake.load_ledger import read_loads
from lake.reference import services_catalogue
from lake.settings import load_settings
from lake.shrink_guard import ShrinkRefused
from orchestration.load.flow import ingest_year
from tests.conftest import quarantined_rows


def _write_services(landing, year):
    folder = landing / "services" / f"fy={year}"
    folder.mkdir(parents=True)
    (folder / "services.csv").write_text(
        "service_id,name,priority_area,agency\nS1,Permits,permits,City\nS2,Clinic,health,City\n"
    )


def _write_queue(landing, year, n, bad_service_rows=0):
    folder = landing / "queue_events" / f"fy={year}"
    folder.mkdir(parents=True, exist_ok=True)
    issued = [dt.datetime(year, 3, 1, 9) + dt.timedelta(minutes=i) for i in range(n)]
    table = pa.table(
        {
            "ticket_id": [f"T{year}-{i}" for i in range(n)],
            "service_id": ["S1"] * (n - bad_service_rows) + ["S404"] * bad_service_rows,
            "issued_at": pa.array(issued, pa.timestamp("us")),
            "called_at": pa.array([t + dt.timedelta(minutes=7) for t in issued], pa.timestamp("us")),
            "outcome": ["served"] * n,
            "kiosk_firmware": ["1.2"] * n,
        }
    )
    pq.write_table(table, folder / "part-0000.parquet")


@pytest.fixture
def lake(civic_home):
    settings = load_settings()
    landing = civic_home / "landing"
    for year in (2023, 2024):
        _write_services(landing, year)
    return settings, open_catalog(settings), landing


def test_refreshing_a_year_twice_replaces_it_exactly_and_keeps_history(lake):
    settings, catalog, landing = lake
    for year in (2023, 2024):
        ingest_year(settings, catalog, "services", year)
    _write_queue(landing, 2023, 50)
    _write_queue(landing, 2024, 100, bad_service_rows=3)
    ingest_year(settings, catalog, "queue_events", 2023)
    first = ingest_year(settings, catalog, "queue_events", 2024)
    assert (first.received, first.loaded, first.quarantined) == (100, 97, 3)

    second = ingest_year(settings, catalog, "queue_events", 2024)
    table = catalog.load_table("raw.queue_events")
    rows = table.scan(row_filter=partition_filter(2024)).to_arrow()
    assert rows.num_rows == 97
    assert len(set(rows["ticket_id"].to_pylist())) == 97
    assert set(rows["_load_id"].to_pylist()) == {second.load_id}
    assert "kiosk_firmware" in rows.column_names  # extra source columns kept
    # the other year is untouched
    assert table.scan(row_filter=partition_filter(2023)).to_arrow().num_rows == 50
    # the previous snapshot is still readable (time travel)
    old = table.scan(row_filter=partition_filter(2024), snapshot_id=first.snapshot_id).to_arrow()
    assert set(old["_load_id"].to_pylist()) == {first.load_id}
    props = table.snapshot_by_id(second.snapshot_id).summary.additional_properties
    assert props["civic.load-id"] == second.load_id and props["civic.rows-quarantined"] == "3"

    quarantine = (
        catalog.load_table("quarantine.rejected_rows")
        .scan(row_filter=partition_filter(2024, entity="queue_events"))
        .to_arrow()
    )
    assert quarantine.num_rows == 3
    assert set(quarantine["rule"].to_pylist()) == {"known_service"}
    assert set(quarantine["load_id"].to_pylist()) == {second.load_id}

    ledger = read_loads(catalog, "raw.queue_events", 2024)
    assert ledger.num_rows == 2
    for rec in ledger.to_pylist():
        assert rec["received"] == rec["loaded"] + rec["quarantined"]


def test_a_batch_with_a_table_level_failure_loads_nothing(lake):
    settings, catalog, landing = lake
    ingest_year(settings, catalog, "services", 2024)
    _write_queue(landing, 2024, 10)
    good = ingest_year(settings, catalog, "queue_events", 2024)
    bad = pa.table(
        {"ticket_id": ["X1"], "service_id": ["S1"], "issued_at": ["2024-05-05T10:00:00"], "outcome": ["served"]}
    )
    pq.write_table(bad, landing / "queue_events" / "fy=2024" / "part-0001.parquet")  # no called_at column
    with pytest.raises(ContractError, match="called_at"):
        ingest_year(settings, catalog, "queue_events", 2024)
    table = catalog.load_table("raw.queue_events")
    assert table.current_snapshot().snapshot_id == good.snapshot_id
    assert table.scan().to_arrow().num_rows == 10
    assert read_loads(catalog, "raw.queue_events").num_rows == 1


def test_an_unreadable_file_fails_naming_the_file(lake):
    settings, catalog, landing = lake
    ingest_year(settings, catalog, "services", 2024)
    folder = landing / "queue_events" / "fy=2024"
    folder.mkdir(parents=True)
    (folder / "broken.parquet").write_bytes(b"this is not parquet")
    with pytest.raises(SourceFileError, match="broken.parquet"):
        ingest_year(settings, catalog, "queue_events", 2024)


def test_rows_naming_a_service_with_no_catalogue_are_quarantined_not_failed(lake):
    settings, catalog, landing = lake
    _write_queue(landing, 2024, 5)
    rec = ingest_year(settings, catalog, "queue_events", 2024)  # no raw.services at all
    assert (rec.received, rec.loaded, rec.quarantined) == (5, 0, 5)
    quarantine = catalog.load_table("quarantine.rejected_rows").scan().to_arrow()
    assert set(quarantine["rule"].to_pylist()) == {"no_services_catalogue"}
    assert "no services catalogue for FY2024 or earlier" in quarantine["message"][0].as_py()
    assert services_catalogue(catalog, 2024).note == (
        "no services catalogue for FY2024 or earlier: rows naming a service are quarantined (no_services_catalogue)"
    )


def test_a_catalogue_applies_to_later_years_until_a_newer_one(lake):
    settings, catalog, landing = lake
    ingest_year(settings, catalog, "services", 2024)
    empty = ingest_year(settings, catalog, "queue_events", 2026)  # an empty landing folder
    assert (empty.received, empty.loaded, empty.quarantined) == (0, 0, 0)
    later = services_catalogue(catalog, 2026)
    assert later.catalogue_year == 2024 and later.service_ids == services_catalogue(catalog, 2024).service_ids
    assert later.note == "no services catalogue for FY2026: the FY2024 catalogue applies"
    assert services_catalogue(catalog, 2024).note is None
    assert services_catalogue(catalog, 2023).catalogue_year is None  # never backwards


def test_two_sources_of_one_entity_and_year_never_overwrite_each_other(lake):
    from contracts.staged import StagedLoad
    from lake.raw_commit import commit_staged

    settings, catalog, landing = lake
    ingest_year(settings, catalog, "services", 2024)
    _write_queue(landing, 2024, 20)
    ingest_year(settings, catalog, "queue_events", 2024)  # source "landing"
    other = landing.parent / "other.parquet"
    rows = pq.read_table(landing / "queue_events" / "fy=2024" / "part-0000.parquet").slice(0, 5)
    rows = rows.append_column("fiscal_year", pa.array([2024] * 5, pa.int32()))
    rows = rows.append_column("_source", pa.array(["kiosk_api"] * 5))
    pq.write_table(rows, other)
    staged = StagedLoad("queue_events", 2024, "kiosk-load-1", "kiosk_api", [other], None, 5, 5, 0, [str(other)])
    for _ in range(2):  # re-running the other source replaces only its own rows
        commit_staged(catalog, staged, started_at=dt.datetime.now())
    table = catalog.load_table("raw.queue_events")
    got = table.scan(row_filter=partition_filter(2024)).to_arrow()
    assert sorted(set(got["_source"].to_pylist())) == ["kiosk_api", "landing"]
    assert got.num_rows == 25
    ingest_year(settings, catalog, "queue_events", 2024)
    assert table.refresh().scan(row_filter=partition_filter(2024)).to_arrow().num_rows == 25


def test_a_load_whose_every_row_is_quarantined_stages_nothing_and_balances(lake):
    """No valid row: dlt is not started, yet every row is checked, quarantined and counted."""
    settings, catalog, landing = lake
    _write_queue(landing, 2024, 6, bad_service_rows=6)
    rec = ingest_year(settings, catalog, "queue_events", 2024)
    assert (rec.received, rec.loaded, rec.quarantined) == (6, 0, 6)
    assert partition_rows(catalog, "raw.queue_events", partition_filter(2024)) == 0
    quarantined = catalog.load_table("quarantine.rejected_rows").scan().to_arrow()
    assert quarantined.num_rows == 6


def _replace_queue_file(landing, year, name: str, content: bytes) -> None:
    folder = landing / "queue_events" / f"fy={year}"
    for old in folder.iterdir():
        old.unlink()
    (folder / name).write_bytes(content)


@pytest.mark.parametrize(
    "name, content",
    [
        ("queue.csv", b"ticket_id,service_id,issued_at,called_at,outcome\n"),  # header only
        ("queue.jsonl", b""),  # a 0-byte export
    ],
)
def test_an_empty_file_does_not_silently_wipe_a_year(lake, name, content):
    settings, catalog, landing = lake
    ingest_year(settings, catalog, "services", 2024)
    _write_queue(landing, 2024, 10)
    good = ingest_year(settings, catalog, "queue_events", 2024)
    _replace_queue_file(landing, 2024, name, content)
    with pytest.raises(
        ShrinkRefused, match=r"raw.queue_events FY2024 \(landing\): 0 rows would replace the 10.*--allow-shrink"
    ):
        ingest_year(settings, catalog, "queue_events", 2024)
    table = catalog.load_table("raw.queue_events")
    assert table.current_snapshot().snapshot_id == good.snapshot_id
    assert table.scan().to_arrow().num_rows == 10
    assert read_loads(catalog, "raw.queue_events").num_rows == 1
    # confirmed, the year is replaced by the empty file
    allowed = ingest_year(dataclasses.replace(settings, allow_shrink=True), catalog, "queue_events", 2024)
    assert allowed.loaded == 0
    assert catalog.load_table("raw.queue_events").scan().to_arrow().num_rows == 0


def test_a_load_below_the_shrink_share_of_the_previous_is_refused(lake):
    settings, catalog, landing = lake
    ingest_year(settings, catalog, "services", 2024)
    _write_queue(landing, 2024, 10)
    ingest_year(settings, catalog, "queue_events", 2024)
    _write_queue(landing, 2024, 4)  # a truncated export: 4 of 10
    with pytest.raises(ShrinkRefused, match="4 rows would replace the 10 .*below 50%"):
        ingest_year(settings, catalog, "queue_events", 2024)
    _write_queue(landing, 2024, 6)  # at or above the share: a real change, loaded
    assert ingest_year(settings, catalog, "queue_events", 2024).loaded == 6
    # CIVIC_SHRINK_GUARD=0 turns the guard off
    _write_queue(landing, 2024, 1)
    assert ingest_year(dataclasses.replace(settings, shrink_guard=0.0), catalog, "queue_events", 2024).loaded == 1


def test_shrink_guard_settings(monkeypatch):
    assert load_settings({}).shrink_guard == 0.5 and not load_settings({}).allow_shrink
    env = {"CIVIC_SHRINK_GUARD": "0.8", "CIVIC_ALLOW_SHRINK": "1"}
    assert load_settings(env).shrink_guard == 0.8 and load_settings(env).allow_shrink
    with pytest.raises(ValueError, match="CIVIC_SHRINK_GUARD"):
        load_settings({"CIVIC_SHRINK_GUARD": "2"})


def test_an_id_loaded_for_another_year_is_quarantined_in_the_later_year(lake):
    settings, catalog, landing = lake
    for year in (2023, 2024):
        ingest_year(settings, catalog, "services", year)
    _write_queue(landing, 2023, 5)
    ingest_year(settings, catalog, "queue_events", 2023)
    _write_queue(landing, 2024, 5)
    repeat = pa.table(
        {
            "ticket_id": ["T2023-3", "T2024-new"],
            "service_id": ["S1", "S1"],
            "issued_at": pa.array([dt.datetime(2024, 4, 1, 9)] * 2, pa.timestamp("us")),
            "called_at": pa.array([dt.datetime(2024, 4, 1, 9, 5)] * 2, pa.timestamp("us")),
            "outcome": ["served", "served"],
            "kiosk_firmware": ["1.2", "1.2"],
        }
    )
    pq.write_table(repeat, landing / "queue_events" / "fy=2024" / "part-0001.parquet")
    rec = ingest_year(settings, catalog, "queue_events", 2024)
    assert (rec.received, rec.loaded, rec.quarantined) == (7, 6, 1)
    [row] = [r for r in quarantined_rows(catalog, "landing") if r["rule"] == "unique_across_years"]
    assert (
        row["message"] == "ticket_id 'T2023-3' is already loaded for another fiscal year (ids are unique across years)"
    )
    # reloading the earlier year is checked against the later one's ids, not its own
    again = ingest_year(settings, catalog, "queue_events", 2023)
    assert (again.loaded, again.quarantined) == (5, 0)


def test_the_ledger_read_filters_by_table_year_and_source(tmp_path):
    """The shrink guard reads only the entries of its (table, year, source): the filters
    select exactly the entries a full read filtered here by hand would."""
    from lake.load_ledger import LoadRecord, record_load

    catalog = open_catalog(load_settings({"CIVIC_HOME": str(tmp_path)}))
    now = dt.datetime(2026, 1, 1)
    for i, (table, year, source) in enumerate(
        [("raw.a", 2023, "x"), ("raw.a", 2024, "x"), ("raw.a", 2024, "y"), ("raw.b", 2024, "x"), ("raw.b", None, "x")]
    ):
        finished = now + dt.timedelta(minutes=i)
        record_load(catalog, LoadRecord(f"l{i}", table, year, source, 1, 1, 0, None, None, 1, now, finished, 0.0, "t"))
    whole = read_loads(catalog).to_pylist()
    assert [r["load_id"] for r in whole] == ["l4", "l3", "l2", "l1", "l0"]  # newest first

    def by_hand(tables, years, sources):
        return [
            r["load_id"]
            for r in whole
            if r["table_name"] in tables and r["fiscal_year"] in years and r["source"] in sources
        ]

    for tables, years, sources in [
        ({"raw.a"}, {2024}, {"x"}),
        ({"raw.a", "raw.b"}, {2024}, {"x", "y"}),
        ({"raw.b"}, {2023}, {"x"}),
    ]:
        got = read_loads(catalog, table_names=tables, fiscal_years=years, sources=sources)
        assert [r["load_id"] for r in got.to_pylist()] == by_hand(tables, years, sources)
    assert read_loads(catalog, table_names=set()).num_rows == 0  # asked for no table: none
    assert [r["load_id"] for r in read_loads(catalog, "raw.b").to_pylist()] == ["l4", "l3"]
