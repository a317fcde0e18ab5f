"""The bad-file corpus: small landing files, each with one kind of damage planted, and
what the load must do with it (refuse the file with a message, or quarantine exactly
the planted rows with their rule and load every other row with its value unchanged).

A planted bad row's id starts with `BAD`; every other row is good and must be loaded.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.parquet as pq

GOOD_ROWS = 40


@dataclass(frozen=True)
class Case:
    name: str
    entity: str
    filename: str
    content: bytes
    # refused: a regex the error must match (it must name the file too); else None
    refused: str | None = None
    # the rule every planted bad row is quarantined with, and a text its message holds
    rule: str | None = None
    message: str | None = None
    # the number column whose loaded values must equal those written
    value_column: str | None = None
    block_bytes: int | None = None  # a reader block this small crosses the damage
    expect_ids: tuple[str, ...] = field(default=())  # every id in the file, in order
    # what the source declares of its times (contracts.coerce.Reading), and the time
    # columns whose loaded values the test computes from the file with zoneinfo
    time_zone: str | None = None
    epoch_unit: str | None = None
    time_columns: tuple[str, ...] = ()

    @property
    def bad_ids(self) -> list[str]:
        return [i for i in self.expect_ids if i.startswith("BAD")]

    @property
    def good_ids(self) -> list[str]:
        return [i for i in self.expect_ids if not i.startswith("BAD")]


def _csv(header: list[str], rows: list[list[str]], end: str = "\n") -> bytes:
    out = io.StringIO()
    out.write(",".join(header) + "\n")
    out.write("\n".join(",".join(r) for r in rows) + end)
    return out.getvalue().encode()


def _jsonl(rows: list[dict]) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in rows).encode()


def _parquet(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


WAIT_HEADER = ["observation_id", "site_id", "observed_at", "wait_kind", "wait_minutes"]


def _wait_rows(n: int = GOOD_ROWS) -> list[list[str]]:
    return [
        [f"W{i}", "SITE1", f"2024-03-{1 + i % 28:02d}T10:{i % 60:02d}:00", "actual", f"{i % 90}.5"] for i in range(n)
    ]


def _wait_case(name: str, value: str, rule: str, message: str, fmt: str = "csv") -> Case:
    rows = _wait_rows()
    rows.insert(7, ["BAD1", "SITE1", "2024-03-02T10:00:00", "actual", value])
    ids = tuple(r[0] for r in rows)
    if fmt == "csv":
        content = _csv(WAIT_HEADER, rows)
    else:
        records = [dict(zip(WAIT_HEADER, r)) for r in rows]
        for r in records:  # numbers as JSON numbers, the bad one as it is planted
            r["wait_minutes"] = float(r["wait_minutes"]) if r["observation_id"] != "BAD1" else value
        content = _jsonl(records)
    return Case(
        name,
        "wait_observations",
        f"waits.{fmt}",
        content,
        rule=rule,
        message=message,
        value_column="wait_minutes",
        expect_ids=ids,
    )


LEDGER_HEADER = ["entry_id", "fiscal_year", "cost_centre", "phase", "amount", "currency"]


def _ledger_rows(n: int = GOOD_ROWS) -> list[list[str]]:
    return [[f"E{i}", "2024", "CC1", "executed", f"{1000 + i}.25", "CAD"] for i in range(n)]


def _ledger_case(name: str, bad: list[str], rule: str, message: str) -> Case:
    rows = _ledger_rows()
    rows.insert(3, bad)
    return Case(
        name,
        "ledger_entries",
        "ledger.csv",
        _csv(LEDGER_HEADER, rows),
        rule=rule,
        message=message,
        value_column="amount",
        expect_ids=tuple(r[0] for r in rows),
    )


QUEUE_HEADER = ["ticket_id", "service_id", "issued_at", "called_at", "outcome"]


def _queue_rows(n: int = GOOD_ROWS) -> list[list[str]]:
    return [
        [
            f"T{i}",
            "S1",
            f"2024-02-{1 + i % 28:02d}T09:{i % 60:02d}:00",
            f"2024-02-{1 + i % 28:02d}T10:{i % 60:02d}:00",
            "served",
        ]
        for i in range(n)
    ]


def _cases() -> list[Case]:
    cases = [
        # 8: non-finite numbers and numbers beyond the declared plausible bound
        _wait_case("wait_inf_text", "inf", "not_finite", "'inf' is not a finite number"),
        _wait_case("wait_minus_inf_text", "-Infinity", "not_finite", "is not a finite number"),
        _wait_case("wait_1e400_text", "1e400", "not_finite", "'1e400' is not a finite number"),
        _wait_case("wait_nan_text", "NaN", "not_finite", "'NaN' is not a finite number"),
        _wait_case("wait_absurd", "1000000000", "plausible_bound", "beyond the plausible bound"),
        _ledger_case(
            "ledger_amount_1e15",
            ["BAD1", "2024", "CC1", "executed", "1e15", "CAD"],
            "plausible_bound",
            "beyond the plausible bound",
        ),
        _ledger_case(
            "ledger_amount_inf", ["BAD1", "2024", "CC1", "executed", "inf", "CAD"], "not_finite", "not a finite number"
        ),
        # 13: an unreadable value is said to be unreadable, and shown
        _ledger_case(
            "ledger_amount_thousands_separator",
            ["BAD1", "2024", "CC1", "executed", '"1,234.56"', "CAD"],
            "type",
            "amount value '1,234.56' could not be read as a number",
        ),
        # 14: an integer beyond Int32 is a row's unreadable value, not a crash retried
        _ledger_case(
            "ledger_fiscal_year_overflow",
            ["BAD1", "99999999999", "CC1", "executed", "5", "CAD"],
            "type",
            "fiscal_year value '99999999999' could not be read as a whole number",
        ),
        # 12: one bad value among many quarantines its row
        _wait_case("wait_bad_timestamp", "3.5", "type", "could not be read as a date and time"),
        _wait_case(
            "json_string_number_among_numbers", "12.50x", "type", "'12.50x' could not be read as a number", fmt="jsonl"
        ),
    ]
    # the bad timestamp case: the observed_at, not the wait, is what is bad
    rows = _wait_rows(5000)
    rows.insert(4321, ["BAD1", "SITE1", "-2024-03-02T10:00:00", "actual", "4.5"])
    cases[9] = Case(
        "wait_negative_year_timestamp_in_5000",
        "wait_observations",
        "waits.csv",
        _csv(WAIT_HEADER, rows),
        rule="type",
        message="observed_at value '-2024-03-02T10:00:00' could not be read as a date",
        value_column="wait_minutes",
        expect_ids=tuple(r[0] for r in rows),
    )
    # a "12.50" string in a numeric JSON field, past the first block: read, not refused
    records = [dict(zip(WAIT_HEADER, r)) | {"wait_minutes": float(r[4])} for r in _wait_rows(400)]
    records[300]["wait_minutes"] = "12.50"
    records.insert(
        350,
        {
            "observation_id": "BAD1",
            "site_id": "SITE1",
            "observed_at": "2024-03-02T10:00:00",
            "wait_kind": "actual",
            "wait_minutes": "maybe",
        },
    )
    cases.append(
        Case(
            "json_string_in_numeric_field_past_first_block",
            "wait_observations",
            "waits.jsonl",
            _jsonl(records),
            rule="type",
            message="wait_minutes value 'maybe' could not be read as a number",
            block_bytes=4096,
            expect_ids=tuple(r["observation_id"] for r in records),
        )
    )
    # a line that is not JSON, and one that is not an object, among good lines
    lines = [json.dumps(dict(zip(WAIT_HEADER, r))) for r in _wait_rows()]
    lines.insert(5, '{"observation_id": "BAD1", "site_id": "SITE1", "observed_')
    lines.insert(9, '["BAD2", "SITE1"]')
    cases.append(
        Case(
            "jsonl_broken_lines",
            "wait_observations",
            "waits.jsonl",
            ("\n".join(lines) + "\n").encode(),
            rule="source_rejected",
            message="record",
            expect_ids=tuple(
                [
                    "W0",
                    "W1",
                    "W2",
                    "W3",
                    "W4",
                    "BAD1",
                    *[f"W{i}" for i in range(5, 8)],
                    "BAD2",
                    *[f"W{i}" for i in range(8, GOOD_ROWS)],
                ]
            ),
        )
    )
    # a boolean that is not one
    sessions = [
        [f"S{i}", "S1", f"2024-04-{1 + i % 28:02d}T08:00:00", "true" if i % 2 else "false"] for i in range(GOOD_ROWS)
    ]
    sessions.insert(11, ["BAD1", "S1", "2024-04-02T08:00:00", "maybe"])
    cases.append(
        Case(
            "session_completed_maybe",
            "web_sessions",
            "sessions.csv",
            _csv(["session_id", "service_id", "started_at", "completed"], sessions),
            rule="type",
            message="completed value 'maybe' could not be read as true or false",
            expect_ids=tuple(r[0] for r in sessions),
        )
    )
    # 12: a ragged CSV row (fewer and more fields) quarantines that row only
    for name, bad in (
        ("csv_row_short", ["BAD1", "S1", "2024-02-03T09:00:00"]),
        ("csv_row_long", ["BAD1", "S1", "2024-02-03T09:00:00", "2024-02-03T09:10:00", "served", "x"]),
    ):
        rows = _queue_rows()
        rows.insert(13, bad)
        cases.append(
            Case(
                name,
                "queue_events",
                "queue.csv",
                _csv(QUEUE_HEADER, rows),
                rule="source_rejected",
                message="fields, the header has 5",
                expect_ids=tuple(r[0] for r in rows),
            )
        )
    # a quoted carriage return and line feed inside a value, across reader blocks
    rows = _queue_rows(400)
    for i in range(0, 400, 37):
        rows[i][4] = '"served"'
        rows[i][1] = '"S1"'
    text = _csv(QUEUE_HEADER + ["note"], [r + ['"line one\rline two\nthree"'] for r in rows])
    cases.append(
        Case(
            "csv_quoted_cr_lf",
            "queue_events",
            "queue.csv",
            text,
            block_bytes=2048,
            expect_ids=tuple(r[0] for r in rows),
        )
    )
    # 10: a file cut mid-row: the last row ends early, or inside a quoted value
    rows = _queue_rows()
    rows.append(["BAD1", "S1", "2024-02-0"])
    cases.append(
        Case(
            "csv_cut_mid_row",
            "queue_events",
            "queue.csv",
            _csv(QUEUE_HEADER, rows, end=""),
            rule="source_rejected",
            message="the row ends early",
            expect_ids=tuple(r[0] for r in rows),
        )
    )
    rows = _queue_rows()
    content = _csv(QUEUE_HEADER + ["note"], [r + ['"fine"'] for r in rows], end="\n")
    content += b'BAD1,S1,2024-02-03T09:00:00,2024-02-03T09:10:00,served,"cut in the mid'
    cases.append(
        Case(
            "csv_cut_inside_quotes",
            "queue_events",
            "queue.csv",
            content,
            rule="source_rejected",
            message="ends inside a quoted value",
            expect_ids=(*[r[0] for r in rows], "BAD1"),
        )
    )
    # a last row without a line end is a whole row (RFC 4180): loaded
    rows = _queue_rows()
    cases.append(
        Case(
            "csv_no_final_newline",
            "queue_events",
            "queue.csv",
            _csv(QUEUE_HEADER, rows, end=""),
            expect_ids=tuple(r[0] for r in rows),
        )
    )
    # 11: day/month text dates of an undeclared order: one that reads two ways is
    # quarantined, never guessed; one that reads one way only is read so
    rows = [[f"W{i}", "SITE1", f"{13 + i % 15:02d}/03/2024 10:00", "actual", f"{i}.5"] for i in range(GOOD_ROWS)]
    rows += [["W-us", "SITE1", "03/25/2024 10:00", "actual", "1.5"], ["W-same", "SITE1", "05/05/2024", "actual", "2.5"]]
    rows.insert(9, ["BAD1", "SITE1", "05/03/2024 10:00", "actual", "3.5"])
    rows.insert(19, ["BAD2", "SITE1", "11/12/2024", "actual", "4.5"])
    cases.append(
        Case(
            "dates_day_month_undeclared",
            "wait_observations",
            "waits.csv",
            _csv(WAIT_HEADER, rows),
            rule="ambiguous_date",
            message="could be read as two dates",
            value_column="wait_minutes",
            expect_ids=tuple(r[0] for r in rows),
        )
    )
    # Parquet: typed non-finite floats, and an Int64 beyond the Int32 column
    rows = _wait_rows()
    table = pa.table(
        {
            "observation_id": [r[0] for r in rows] + ["BAD1", "BAD2"],
            "site_id": ["SITE1"] * (len(rows) + 2),
            "observed_at": pa.array([r[2] for r in rows] + ["2024-03-02T10:00:00"] * 2).cast(pa.timestamp("us")),
            "wait_kind": ["actual"] * (len(rows) + 2),
            "wait_minutes": [float(r[4]) for r in rows] + [float("inf"), float("nan")],
        }
    )
    cases.append(
        Case(
            "parquet_non_finite",
            "wait_observations",
            "waits.parquet",
            _parquet(table),
            rule="not_finite",
            message="is not a finite number",
            value_column="wait_minutes",
            expect_ids=tuple(table["observation_id"].to_pylist()),
        )
    )
    rows = _ledger_rows()
    table = pa.table(
        {
            "entry_id": [r[0] for r in rows] + ["BAD1"],
            "fiscal_year": pa.array([2024] * len(rows) + [99_999_999_999], pa.int64()),
            "cost_centre": ["CC1"] * (len(rows) + 1),
            "phase": ["executed"] * (len(rows) + 1),
            "amount": [float(r[4]) for r in rows] + [5.0],
            "currency": ["CAD"] * (len(rows) + 1),
        }
    )
    cases.append(
        Case(
            "parquet_int32_overflow",
            "ledger_entries",
            "ledger.parquet",
            _parquet(table),
            rule="type",
            message="could not be read as a whole number",
            value_column="amount",
            expect_ids=tuple(table["entry_id"].to_pylist()),
        )
    )
    cases += _time_zone_cases()
    # refused: the file cannot be read as a whole, and the message names it
    html = b"<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head><body>Bad gateway</body></html>\n"
    cases += [
        Case(
            "csv_duplicate_header",
            "queue_events",
            "queue.csv",
            _csv(
                ["ticket_id", "service_id", "issued_at", "called_at", "outcome", "called_at"],
                [r + ["x"] for r in _queue_rows()],
            ),
            refused=r"queue\.csv.*'called_at' twice",
        ),
        Case("csv_empty_file", "queue_events", "queue.csv", b"", refused=r"queue\.csv.*empty"),
        Case("html_page_as_jsonl", "wait_observations", "waits.jsonl", html, refused=r"waits\.jsonl.*not a JSON lines"),
        Case("html_page_as_csv", "queue_events", "queue.csv", html, refused=r"queue\.csv.*required column"),
        Case("parquet_not_parquet", "queue_events", "queue.parquet", html, refused=r"queue\.parquet"),
        # 9 (at the file level): a header-only file is read as no rows; the lake's shrink
        # guard (tests/test_shrink_guard.py) decides whether it may replace a year
        Case("csv_header_only", "queue_events", "queue.csv", (",".join(QUEUE_HEADER) + "\n").encode()),
    ]
    return cases


def _time_zone_cases() -> list[Case]:
    """11: offsets, zones and epoch units. New York springs forward on 2024-03-10 at 02:00:
    a kiosk writes tickets issued in UTC, the counter calls them with its local offset
    (-05:00 before the change, -04:00 after); read at their written wall clocks the
    calls come before the tickets (negative waits)."""
    stamps = [dt.datetime(2024, 3, 10, 5, 0, tzinfo=dt.UTC) + dt.timedelta(minutes=9 * i) for i in range(GOOD_ROWS)]
    rows = []
    for i, issued in enumerate(stamps):
        called = issued + dt.timedelta(minutes=4 + i % 7)
        offset = dt.timedelta(hours=-4 if called >= dt.datetime(2024, 3, 10, 7, tzinfo=dt.UTC) else -5)
        local = called.astimezone(dt.timezone(offset))
        rows.append([f"T{i}", "S1", issued.strftime("%Y-%m-%dT%H:%M:%SZ"), local.isoformat(), "served"])
    mixed = Case(
        "offsets_mixed_across_dst_declared_zone",
        "queue_events",
        "queue.csv",
        _csv(QUEUE_HEADER, rows),
        time_zone="America/New_York",
        time_columns=("issued_at", "called_at"),
        expect_ids=tuple(r[0] for r in rows),
    )
    # undeclared: times without offsets are read as written; those that carry differing
    # offsets are quarantined, never guessed
    plain = _queue_rows()
    plain.insert(5, ["BAD1", "S1", "2024-03-10T06:50:00Z", "2024-03-10T01:55:00-05:00", "served"])
    plain.insert(12, ["BAD2", "S1", "2024-03-10T07:20:00+00:00", "2024-03-10T03:25:00-04:00", "served"])
    undeclared = Case(
        "offsets_mixed_undeclared_zone",
        "queue_events",
        "queue.csv",
        _csv(QUEUE_HEADER, plain),
        rule="mixed_offsets",
        message="does not declare its time_zone",
        time_columns=("issued_at", "called_at"),
        expect_ids=tuple(r[0] for r in plain),
    )
    # Parquet: an int64 column of epoch seconds is a number, not a timestamp type
    waits = _wait_rows()
    epoch = [int(dt.datetime.fromisoformat(r[2]).replace(tzinfo=dt.UTC).timestamp()) for r in waits]
    seconds = pa.table(
        {
            "observation_id": [r[0] for r in waits],
            "site_id": ["SITE1"] * len(waits),
            "observed_at": pa.array(epoch, pa.int64()),
            "wait_kind": ["actual"] * len(waits),
            "wait_minutes": [float(r[4]) for r in waits],
        }
    )
    bad_seconds = seconds.set_column(0, "observation_id", pa.array([f"BAD{i}" for i in range(len(waits))]))
    # a timestamp column that states its zone (UTC) in the file
    zoned = seconds.set_column(2, "observed_at", pa.array(epoch, pa.int64()).cast(pa.timestamp("s", tz="UTC")))
    return [
        mixed,
        undeclared,
        Case(
            "parquet_epoch_seconds_declared",
            "wait_observations",
            "waits.parquet",
            _parquet(seconds),
            time_zone="Europe/Madrid",
            epoch_unit="s",
            time_columns=("observed_at",),
            value_column="wait_minutes",
            expect_ids=tuple(seconds["observation_id"].to_pylist()),
        ),
        Case(
            "parquet_epoch_seconds_undeclared",
            "wait_observations",
            "waits.parquet",
            _parquet(bad_seconds),
            rule="undeclared_epoch",
            message="epoch_unit (s, ms, us, ns) and time_zone",
            expect_ids=tuple(bad_seconds["observation_id"].to_pylist()),
        ),
        Case(
            "parquet_timestamp_utc_declared_zone",
            "wait_observations",
            "waits.parquet",
            _parquet(zoned),
            time_zone="America/Los_Angeles",
            time_columns=("observed_at",),
            value_column="wait_minutes",
            expect_ids=tuple(zoned["observation_id"].to_pylist()),
        ),
    ]


CASES = _cases()
