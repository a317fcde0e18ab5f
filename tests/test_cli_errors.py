"""`civic` fails in one line that says what to do (never a traceback), with exit code 2
for a wrong command line and 1 for what cannot be done; read commands create no state."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from orchestration.cli import main
from orchestration.cli.errors import check_fit, query_error, report
from orchestration.cli.main import build_parser
from tests.conftest import REALDATA, use_home

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def home(tmp_path, monkeypatch):
    """An empty CIVIC_HOME, and the working directory beside it (where `.civic` would go)."""
    home = tmp_path / "civic"
    use_home(monkeypatch, home)
    monkeypatch.delenv("CIVIC_DEBUG", raising=False)
    monkeypatch.chdir(tmp_path)
    return home


@pytest.fixture
def marts(home):
    """The smallest lake a query reads: a DuckDB file with a marts table (and a raw one
    that a hint must never name)."""
    home.mkdir()
    with duckdb.connect(str(home / "marts_only.duckdb")) as con:
        con.execute("create schema marts")
        con.execute("create schema raw")
        con.execute("create table raw.kpis_raw as select 1 as x")
        con.execute(
            "create table marts.kpis as select 'SVC-' || i as service_id, i as transactions from range(20000) t(i)"
        )
    return home


def _fails(capsys, argv: list[str], code: int) -> str:
    assert main(argv) == code
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    return lines[0]


def _tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


@pytest.mark.parametrize(
    "years, says",
    [
        ("2025:2021", "civic refresh: --years 2025:2021: year range '2025:2021' ends before it starts"),
        ("20x5", "civic refresh: --years 20x5: '20x5' is not a year"),
        ("2021:2022:2023", "civic refresh: --years 2021:2022:2023: '2021:2022:2023' is not a range FIRST:LAST"),
        ("2021:", "civic refresh: --years 2021:: '' is not a year"),
        (
            "2031",
            "civic refresh: --years 2031: FY2031 is outside the fiscal years FY2010..FY2030 (set CIVIC_FISCAL_YEARS",
        ),
    ],
)
def test_years_refused_before_anything_runs(home, capsys, years, says):
    assert _fails(capsys, ["refresh", "--years", years], 2).startswith(says)
    assert not home.exists()  # no Dagster home, no lock, no catalog


def test_demo_years_refused_before_data_is_generated(home, capsys):
    assert "FY2009 is outside" in _fails(capsys, ["demo", "--years", "2009:2022"], 2)
    assert not home.exists()


def test_misspelled_table_shows_the_marts_hint(marts, capsys):
    line = _fails(capsys, ["query", "select * from marts.kpi"], 2)
    assert line == 'civic query: Table with name kpi does not exist: did you mean "marts.kpis"?'


def test_misspelled_column_shows_the_candidates(marts, capsys):
    line = _fails(capsys, ["query", "select transaction from marts.kpis"], 2)
    assert line == (
        'civic query: Referenced column "transaction" not found in FROM clause! Candidate bindings: "transactions"'
    )


def test_hint_naming_a_table_outside_marts_is_dropped(marts, capsys):
    line = _fails(capsys, ["query", "select * from marts.kpis_raw"], 2)
    assert line == 'civic query: Table with name kpis_raw does not exist: did you mean "marts.kpis"?'
    assert "raw." not in line


def test_query_error_keeps_only_marts_hints():
    no_marts = set
    assert query_error('Catalog Error: Table with name a does not exist!\nDid you mean "raw.ab"?', no_marts) == (
        "Table with name a does not exist!"
    )
    assert query_error('Catalog Error: x!\nDid you mean "marts.ab"?\n\nLINE 1: ...', no_marts) == (
        'x! Did you mean "marts.ab"?'
    )
    assert query_error('Catalog Error: x!\nDid you mean "ab"?', no_marts) == "x!"  # not a mart of this file
    assert query_error('Catalog Error: x!\nDid you mean "ab"?', lambda: {"ab"}) == 'x! Did you mean "ab"?'


def test_closed_pipe_ends_quietly(marts):
    """`civic query ... | head -1`: one line out, nothing on stderr, no BrokenPipeError."""
    civic = Path(sys.executable).with_name("civic")  # the installed entry point
    script = f'{{ "{civic}" query "select * from marts.kpis" 2>"$ERR"; }} | head -1'
    err = marts / "stderr.txt"
    done = subprocess.run(
        ["bash", "-c", script],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "ERR": str(err)},
        timeout=120,
    )
    assert done.returncode == 0
    assert done.stdout.split() == ["service_id", "transactions"]
    assert err.read_text() == ""


def test_unknown_kind_suggests_one(home, capsys):
    line = _fails(capsys, ["ingest", "--kind", "nyc31", "somewhere"], 2)
    assert line.startswith("civic ingest: unknown kind 'nyc31': did you mean nyc311? (kinds: au_dta, ")
    assert '"' not in line  # the KeyError's stray quotes are gone
    assert not home.exists()


@pytest.mark.skipif(not (REALDATA / "open311_bloomington").exists(), reason="needs shared/realdata")
def test_kind_that_fits_no_row_is_refused(home, capsys):
    line = _fails(capsys, ["ingest", "--kind", "nyc311", str(REALDATA / "open311_bloomington")], 1)
    assert line == (
        "civic ingest: none of the 67 rows fit kind nyc311 (all quarantined); "
        "the location's name suggests --kind open311"
    )


def test_most_rows_quarantined_is_a_warning(capsys):
    kinds = ["nyc311", "open311"]
    assert check_fit("nyc311", "feeds/x", 10, 3, 7, kinds) == 0
    assert capsys.readouterr().err == "warning: 7 of 10 rows were quarantined: does kind nyc311 fit?\n"
    assert check_fit("nyc311", "feeds/x", 10, 6, 4, kinds) == 0  # most rows loaded: nothing to say
    assert capsys.readouterr().err == ""


def test_a_location_with_nothing_to_read_is_refused(home, capsys, tmp_path):
    (tmp_path / "empty").mkdir()
    line = _fails(capsys, ["ingest", "--kind", "nyc311", str(tmp_path / "empty")], 1)
    assert (
        line
        == f"civic ingest: {tmp_path / 'empty'} holds no rows that kind nyc311 reads (no such files, or empty ones)"
    )


def test_a_missing_key_is_one_short_line(home, capsys, monkeypatch, tmp_path):
    monkeypatch.delenv("CIVIC_PSEUDONYM_KEY")
    line = _fails(capsys, ["ingest", "--kind", "nyc311", str(tmp_path)], 1)
    assert line.startswith("civic ingest: service_requests: personal column(s) address, address_id, bbl and 21 more")
    assert len(line) < 250


def test_expected_errors_are_one_line(home, capsys, monkeypatch):
    monkeypatch.setenv("CIVIC_PROFILE", "bogus")
    line = _fails(capsys, ["loads"], 1)
    assert line == "civic loads: CIVIC_PROFILE must be one of embedded, production, got 'bogus'"


def test_unexpected_errors_show_a_traceback_only_when_asked(capsys, monkeypatch):
    def boom() -> int:
        raise ZeroDivisionError("division by zero")

    monkeypatch.delenv("CIVIC_DEBUG", raising=False)
    assert report("query", boom) == 1
    assert capsys.readouterr().err == (
        "civic query: unexpected ZeroDivisionError: division by zero (set CIVIC_DEBUG=1 for the traceback)\n"
    )
    monkeypatch.setenv("CIVIC_DEBUG", "1")
    assert report("query", boom) == 1
    assert "Traceback" in capsys.readouterr().err


@pytest.mark.parametrize("unset", [False, True])
def test_read_commands_create_no_state(home, capsys, monkeypatch, unset):
    if unset:  # the default home is ./.civic
        monkeypatch.delenv("CIVIC_HOME")
    cwd = home.parent
    before = _tree(cwd)
    for argv in (["query", "select * from marts.kpis"], ["loads"], ["plan"], ["quarantine"]):
        line = _fails(capsys, argv, 1)
        assert line.startswith(f"civic {argv[0]}: no lake at ") and "run `civic demo` or `civic refresh` first" in line
    assert main(["feeds"]) == 0
    assert "no feeds configured" in capsys.readouterr().out
    assert _tree(cwd) == before
    assert not (cwd / ".civic").exists()


def test_loads_of_a_misspelled_table_names_the_tables(lake, capsys):
    line = _fails(capsys, ["loads", "--table", "queue_event"], 2)
    assert line.startswith("civic loads: unknown table 'raw.queue_event': did you mean raw.queue_events? (tables: ")
    assert main(["loads", "--table", "queue_events"]) == 0  # a table with no load yet
    assert "(0 rows)" in capsys.readouterr().out


def test_version(capsys):
    from importlib.metadata import version

    with pytest.raises(SystemExit) as exit:
        main(["--version"])
    assert exit.value.code == 0
    assert capsys.readouterr().out == f"civic {version('civic-lakehouse')}\n"


def test_every_option_has_help():
    parser = build_parser()
    parsers = [parser] + [
        sub
        for action in parser._subparsers._group_actions
        for sub in action.choices.values()  # type: ignore[union-attr]
    ]
    missing = [
        f"{p.prog} {a.dest}"
        for p in parsers
        for a in p._actions
        if a.help is None and not isinstance(a, argparse._SubParsersAction)
    ]
    assert missing == []


def test_ingest_help_names_every_feed_kind():
    from ingestion.feeds import FEED_KINDS
    from orchestration.cli.main import FEED_KIND_NAMES

    assert FEED_KIND_NAMES == tuple(sorted(FEED_KINDS))
