"""`civic verify`: the load ledger's hash chain and the data files' hashes catch each kind
of tampering (each test alters one thing) and pass on an untouched lake."""

import datetime as dt
import hashlib
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import REALDATA

from lake.load_ledger import LOADS_ARROW, LOADS_TABLE, LoadRecord, read_loads, record_load
from lake.verify import verify_lake
from orchestration.cli import main
from orchestration.load.flow import ingest_feed, ingest_year

LEDGER_CSV = (
    "entry_id,fiscal_year,programme_id,service_id,cost_centre,economic_class,channel,phase,amount,currency\n"
    "E1,2024,PRG-1,,FINANCE,transfer,,approved,1000000.00,USD\n"
    "E2,2024,PRG-1,,MINISTRY,transfer,,executed,750000.00,USD\n"
    "E3,2024,PRG-1,,AGENCY,personnel,,executed,700000.00,USD\n"
)


@pytest.fixture
def loaded(lake):
    """A lake of two Open311 feeds and one year of a finance ledger from the landing zone."""
    settings, catalog = lake
    folder = settings.home / "landing" / "ledger_entries" / "fy=2024"
    folder.mkdir(parents=True)
    (folder / "funds.csv").write_text(LEDGER_CSV)
    ingest_feed(settings, catalog, "open311", str(REALDATA / "open311_bloomington"), name="bloomington")
    ingest_year(settings, catalog, "ledger_entries", 2024)
    ingest_feed(settings, catalog, "open311", str(REALDATA / "open311_sanfrancisco"), name="sf")
    return settings, catalog


def _problems(catalog, **kw) -> list[str]:
    result = verify_lake(catalog, **kw)
    return result.problems


def _entries(catalog) -> list[dict]:
    return sorted(read_loads(catalog).to_pylist(), key=lambda e: e["seq"])


def _data_file(catalog, table: str) -> str:
    return next(iter(catalog.load_table(table).scan().plan_files())).file.file_path.removeprefix("file://")


def test_an_untouched_lake_verifies_and_traces_funds_to_their_file(loaded, capsys):
    settings, catalog = loaded
    assert _problems(catalog) == []
    entries = _entries(catalog)
    assert [e["seq"] for e in entries] == list(range(1, len(entries) + 1))
    assert entries[0]["prev_hash"] == "0" * 64
    assert all(b["prev_hash"] == a["entry_hash"] for a, b in zip(entries, entries[1:]))
    # the funds trail: the ledger load names the source file by its SHA-256
    [funds] = [e for e in entries if e["table_name"] == "raw.ledger_entries"]
    source = settings.home / "landing" / "ledger_entries" / "fy=2024" / "funds.csv"
    [recorded] = json.loads(funds["source_files"])
    assert recorded["path"] == str(source) and recorded["sha256"] == hashlib.sha256(source.read_bytes()).hexdigest()
    assert funds["feed"] == "landing" and {e["feed"] for e in entries} == {"landing", "bloomington", "sf"}
    assert main(["verify"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("verify OK:") and entries[-1]["entry_hash"] in out
    assert main(["verify", "--table", "ledger_entries", "--year", "2024", "--head", entries[2]["entry_hash"]]) == 0
    capsys.readouterr()
    assert main(["loads", "--format", "csv"]) == 0  # `civic loads` names each load's feed
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln]
    assert lines[0].split(",")[3] == "feed" and {ln.split(",")[3] for ln in lines[1:]} == {
        "landing",
        "bloomington",
        "sf",
    }
    # a feed's load spans years: its id names none (no "-fy0-")
    assert all("-fy" not in e["load_id"] for e in entries if e["table_name"] == "raw.service_requests")


def test_a_changed_data_file_is_named(loaded, capsys):
    _, catalog = loaded
    path = _data_file(catalog, "raw.ledger_entries")
    rows = pq.read_table(path)
    amounts = rows["amount"].to_pylist()
    amounts[1] += 100_000.0  # the ministry "received" more
    pq.write_table(rows.set_column(rows.schema.get_field_index("amount"), "amount", pa.array(amounts)), path)
    [problem] = _problems(catalog)
    assert problem.startswith(f"data file file://{path} of ledger entry #") and "was changed" in problem
    assert main(["verify", "--table", "ledger_entries"]) == 1
    assert "ALTERED: data file" in capsys.readouterr().out


def test_a_deleted_data_file_is_named(loaded):
    _, catalog = loaded
    path = _data_file(catalog, "raw.service_requests")
    import os

    os.unlink(path)
    [problem] = _problems(catalog)
    assert path in problem and "was deleted from storage" in problem


def _rewrite_ledger(catalog, change) -> None:
    table = catalog.load_table(LOADS_TABLE)
    rows = change(sorted(table.scan().to_arrow().to_pylist(), key=lambda e: e["seq"]))
    table.overwrite(pa.Table.from_pylist(rows, schema=table.schema().as_arrow()))


def test_an_edited_ledger_row_is_named(loaded):
    _, catalog = loaded

    def edit(rows):
        rows[2]["loaded"] += 1
        return rows

    _rewrite_ledger(catalog, edit)
    [problem] = _problems(catalog)
    assert problem.startswith("ledger entry #3 (load ") and problem.endswith(
        "was edited: its content no longer matches its hash"
    )


def test_a_removed_ledger_row_is_named(loaded):
    _, catalog = loaded
    _rewrite_ledger(catalog, lambda rows: rows[:1] + rows[2:])
    assert "ledger entry #2 was removed (the chain jumps to #3)" in _problems(catalog)


def test_removing_the_newest_entry_leaves_a_snapshot_unexplained_and_the_kept_head_missing(loaded):
    _, catalog = loaded
    head = _entries(catalog)[-1]
    _rewrite_ledger(catalog, lambda rows: rows[:-1])
    problems = _problems(catalog, kept_head=head["entry_hash"])
    assert f"the kept chain head {head['entry_hash']} is not in the ledger: its history was rewritten" in problems
    assert any(
        f"snapshot {head['snapshot_id']} of {head['table_name']}" in p and "no ledger entry" in p for p in problems
    )


def test_a_commit_outside_a_load_is_named(loaded):
    _, catalog = loaded
    table = catalog.load_table("raw.ledger_entries")
    extra = table.scan().to_arrow().slice(0, 1)
    table.append(extra)  # one more "executed" line, committed behind the ledger's back
    snapshot = catalog.load_table("raw.ledger_entries").current_snapshot().snapshot_id
    problems = _problems(catalog, table="raw.ledger_entries")
    assert f"snapshot {snapshot} of raw.ledger_entries (append) is explained by no ledger entry" in problems
    assert any("in raw.ledger_entries was not registered by any ledger entry" in p for p in problems)
    assert len(problems) == 2


def test_an_old_ledger_without_the_new_columns_still_reads_and_then_chains(lake):
    _, catalog = lake
    old = pa.schema(
        [
            f
            for f in LOADS_ARROW
            if f.name in LoadRecord.__dataclass_fields__
            and f.name not in ("feed", "data_files", "source_files", "seq", "prev_hash", "entry_hash")
        ]
    )
    catalog.create_namespace_if_not_exists("raw")
    table = catalog.create_table(LOADS_TABLE, schema=old)
    now = dt.datetime(2024, 1, 1)
    row = dict(
        load_id="old-1",
        table_name="raw.services",
        fiscal_year=2023,
        source="landing",
        received=1,
        loaded=1,
        quarantined=0,
        snapshot_id=None,
        quarantine_snapshot_id=None,
        files=1,
        started_at=now,
        finished_at=now,
        seconds=0.0,
        code_version="0.1",
        run_id=None,
    )
    table.append(pa.Table.from_pylist([row], schema=old))
    [read] = read_loads(catalog).to_pylist()
    assert read["load_id"] == "old-1" and read["feed"] is None and read["seq"] is None
    entry = record_load(catalog, LoadRecord(**{**row, "load_id": "new-1", "feed": "landing"}))
    assert entry.seq == 1 and entry.prev_hash == "0" * 64
    result = verify_lake(catalog)
    assert result.unchained == 1 and result.entries == 1 and result.head == (1, entry.entry_hash)
    assert result.problems == []
