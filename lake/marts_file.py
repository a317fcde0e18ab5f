"""The marts-only DuckDB file that `civic query` and BI tools read, swapped in atomically.

dbt builds raw views, staging and marts in one DuckDB file (`CIVIC_DUCKDB`); readers get a
separate file holding schema `marts` alone (`CIVIC_MARTS_DB`, default
$CIVIC_HOME/marts_only.duckdb), so no system view, file function or error hint can show them
anything else. After a build whose every model and test passed, the marts are copied into
a new file beside it, which `os.replace` then puts in place of the old one: a reader that
has the old file open keeps reading it (a consistent snapshot), new connections open the
new one, and the refresh never waits for a reader. A failed build never reaches this step,
so the file readers see changes only when the whole build succeeded.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from lake.locks import pid_alive


@dataclass(frozen=True)
class MartsFile:
    path: Path
    tables: dict[str, int]  # rows per mart
    seconds: float
    bytes: int


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def write_marts_file(build_path: Path, target: Path) -> Path:
    """Copy schema `marts` of `build_path` into a new file beside `target`; return its path.
    Views of the marts are copied as tables (their SQL would name staging)."""
    if target.stem.lower() == "marts":
        raise ValueError(f"{target}: a file named marts.* makes `marts.<table>` ambiguous in DuckDB; name it otherwise")
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = target.with_name(f".{target.name}.{os.getpid()}.new")
    remove_leftovers(target)
    try:
        with duckdb.connect(str(staged)) as con:
            con.execute(f"attach {_literal(build_path)} as build (read_only)")
            names = [
                n
                for (n,) in con.execute(
                    "select table_name from information_schema.tables "
                    "where table_catalog = 'build' and table_schema = 'marts' order by table_name"
                ).fetchall()
            ]
            here = _quoted(_one(con, "select current_database()"))
            con.execute(f"create schema {here}.marts")
            for name in names:
                con.execute(f"create table {here}.marts.{_quoted(name)} as select * from build.marts.{_quoted(name)}")
            con.execute("detach build")
            con.execute("checkpoint")
    except BaseException:
        staged.unlink(missing_ok=True)
        raise
    return staged


def remove_leftovers(target: Path) -> list[Path]:
    """Remove the half-written files (and their WALs) of publications whose process is gone:
    a publication killed before its swap leaves `.NAME.PID.new` beside the target, which
    itself is still the last complete file. A living process's file is left alone."""
    removed = []
    for leftover in target.parent.glob(f".{target.name}.*.new*"):
        pid = leftover.name[len(target.name) + 2 :].split(".", 1)[0]
        if pid.isdigit() and (int(pid) == os.getpid() or not pid_alive(int(pid))):
            leftover.unlink(missing_ok=True)
            removed.append(leftover)
    return removed


def swap_in(staged: Path, target: Path) -> None:
    """Put the staged file in place of `target` in one rename (atomic on one filesystem)."""
    os.replace(staged, target)


def publish_marts_file(build_path: Path, target: Path) -> MartsFile:
    """Write the marts of `build_path` to a new file and swap it in as `target`."""
    started = time.monotonic()
    staged = write_marts_file(build_path, target)
    with duckdb.connect(str(staged), read_only=True) as con:  # counted before the swap:
        # this process may hold the old file open under the target's name
        tables = {
            name: _one(con, f"select count(*) from {_quoted(db)}.marts.{_quoted(name)}")
            for db, name in con.execute(
                "select table_catalog, table_name from information_schema.tables where table_schema = 'marts'"
            ).fetchall()
        }
    size = staged.stat().st_size
    swap_in(staged, target)
    return MartsFile(target, tables, time.monotonic() - started, size)


def _literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _one(con: duckdb.DuckDBPyConnection, sql: str):
    row = con.execute(sql).fetchone()
    assert row is not None, sql
    return row[0]
