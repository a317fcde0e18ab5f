"""How `civic` fails: one line on stderr that says what to do, never a traceback.

A command raises `UsageError` (exit 2: the invocation is wrong) or `CliFailure` (exit 1:
the invocation is right but it cannot be done); `report` also turns the errors the lake
raises on purpose (bad settings, files, feeds, scenarios, contracts) into one line
`civic <command>: <message>`. Anything else is a bug: one line, and the traceback only
with CIVIC_DEBUG=1. A closed pipe (`civic query ... | head`) ends the command quietly.
"""

from __future__ import annotations

import difflib
import os
import re
import sys
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lake.settings import Settings

YEARS_HELP = "fiscal years, e.g. 2024, 2021:2025 or 2021,2023"
BROKEN_PIPE_EXIT = 141  # 128 + SIGPIPE, what a shell reports for a reader that went away


class CliError(Exception):
    exit_code = 1


class UsageError(CliError):
    """The command line is wrong (a year, a table or a kind that does not exist)."""

    exit_code = 2


class CliFailure(CliError):
    """The command cannot be done (no lake yet, a feed that fits no row)."""


def one_line(message: object) -> str:
    return " ".join(str(message).split())


def did_you_mean(word: str, choices: Iterable[str], what: str) -> str:
    """'unknown kind 'nyc31': did you mean nyc311? (kinds: a, b, c)'."""
    choices = sorted(set(choices))
    close = difflib.get_close_matches(word, choices, n=1)
    hint = f": did you mean {close[0]}?" if close else ""
    return f"unknown {what} {word!r}{hint} ({what}s: {', '.join(choices) or 'none yet'})"


def no_lake(where: Path) -> CliFailure:
    return CliFailure(f"no lake at {where}: run `civic demo` or `civic refresh` first")


def years_option(spec: str, settings: Settings) -> list[int]:
    """The fiscal years of `--years`, refused in one line before anything runs: text that
    is not a year or a range, or a year outside the configured fiscal years
    (`CIVIC_FISCAL_YEARS`, the Dagster partitions)."""
    from contracts.fiscal_year import check_years, parse_years

    for part in spec.replace(" ", "").split(","):
        if part.count(":") > 1:
            raise UsageError(f"--years {spec}: {part!r} is not a range FIRST:LAST ({YEARS_HELP})")
        for year in part.split(":"):
            if part and not re.fullmatch(r"\d{4}", year):
                raise UsageError(f"--years {spec}: {year!r} is not a year ({YEARS_HELP})")
    try:
        return check_years(parse_years(spec), settings.fiscal_years)
    except ValueError as err:
        raise UsageError(f"--years {spec}: {err}") from None


def check_fit(kind: str, location: str, received: int, loaded: int, quarantined: int, kinds) -> int:
    """A kind that does not fit the files quarantines (nearly) every row, and a location
    with nothing the kind reads loads nothing: say so, and fail."""
    if not received:
        print(
            f"civic ingest: {location} holds no rows that kind {kind} reads (no such files, or empty ones)",
            file=sys.stderr,
        )
        return 1
    if quarantined * 2 <= received:
        return 0
    guess = next((k for k in sorted(kinds, key=len, reverse=True) if k != kind and k in location.lower()), None)
    fits = f"; the location's name suggests --kind {guess}" if guess else ""
    if loaded == 0:
        print(
            f"civic ingest: none of the {received:,} rows fit kind {kind} (all quarantined){fits}",
            file=sys.stderr,
        )
        return 1
    print(
        f"warning: {quarantined:,} of {received:,} rows were quarantined: does kind {kind} fit{fits}?", file=sys.stderr
    )
    return 0


_HINT = re.compile(r"(Did you mean|Candidate bindings:)\s*(.*)")


def query_error(message: str, marts_tables: Callable[[], set[str]]) -> str:
    """DuckDB's error as one line: its first line and its hint, unless the hint names an
    object outside the `marts` schema (a query can only read marts: no use naming others)."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    first = re.sub(r"^\w+ Error:\s*", "", lines[0]) if lines else message
    for line in lines[1:]:
        hint = _HINT.match(line)
        if not hint:
            continue
        if hint.group(1) == "Did you mean":  # a table: keep it only if it is a mart
            names = re.findall(r'"([^"]+)"', hint.group(2))
            if not names or not all(_is_mart(n, marts_tables) for n in names):
                break
        return f"{first} {line}"
    return first


def _is_mart(name: str, marts_tables: Callable[[], set[str]]) -> bool:
    schema, _, table = name.rpartition(".")
    return schema == "marts" or (not schema and table in marts_tables())


def expected_errors() -> tuple[type[BaseException], ...]:
    """The errors the lake raises on purpose, with a message meant for a user."""
    from contracts.errors import ContractError
    from ingestion.errors import SourceFileError
    from lake.plan_scenarios import ScenarioError
    from lake.sql_guard import QueryRefused

    kinds: list[type[BaseException]] = [ContractError, SourceFileError, ScenarioError, QueryRefused]
    if "orchestration.load.feeds" in sys.modules:  # loads pyiceberg: only if a command did
        kinds.append(sys.modules["orchestration.load.feeds"].FeedsConfigError)
    return (*kinds, ValueError, LookupError, FileNotFoundError, RuntimeError)


def report(command: str, run: Callable[[], int]) -> int:
    """Run one command; an error becomes one line on stderr and its exit code."""
    try:
        code = run()
        sys.stdout.flush()  # a closed pipe shows here, not in Python's flush at exit
        return code
    except BrokenPipeError:
        _quiet_stdout()
        return BROKEN_PIPE_EXIT
    except CliError as err:
        print(f"civic {command}: {one_line(err)}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print(f"civic {command}: interrupted", file=sys.stderr)
        return 130
    except Exception as err:
        message = one_line(err.args[0] if isinstance(err, KeyError) and err.args else err)
        if isinstance(err, expected_errors()):
            print(f"civic {command}: {message}", file=sys.stderr)
            return 1
        if os.environ.get("CIVIC_DEBUG") == "1":
            traceback.print_exc()
        else:
            print(
                f"civic {command}: unexpected {type(err).__name__}: {message} (set CIVIC_DEBUG=1 for the traceback)",
                file=sys.stderr,
            )
        return 1


def _quiet_stdout() -> None:
    """The reader of stdout went away: point stdout at /dev/null so that Python's own
    flush at exit does not complain about the closed pipe either."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # not a real file (a test's capture)
        pass
