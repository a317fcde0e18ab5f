"""Government of Canada Service Inventory (open.canada.ca): `si_*.csv` (services and their
volumes), `ss_*.csv` (service standards and results) and `rbpo.csv` (planned and actual
spending by programme, from Departmental Plans and Results Reports).

The files are UTF-8 with a byte-order mark, bilingual, with quoted fields holding commas
and quotes (program-name lists such as "'Grain Quality', 'Grain Research'"). They are
read with the csv module, every cell as text. Mapping rules: gc_si, gc_ss, gc_rbpo.
"""

from __future__ import annotations

import csv
from pathlib import Path

from ingestion.errors import SourceFileError
from ingestion.feeds.base import FeedKind, Reads, mapped
from ingestion.feeds.gc_rbpo import LEDGER_COLUMNS, ledger_records, planned_next_year
from ingestion.feeds.gc_si import SERVICE_COLUMNS, TRANSACTION_COLUMNS, service_records, transaction_records
from ingestion.feeds.gc_ss import STANDARD_COLUMNS, standard_record

# file kind -> (name test, columns the file must have)
FILES = {
    "si": (lambda n: n.startswith("si_") or n == "si.csv", ("fiscal_yr", "service_id", "service_name_en")),
    "ss": (lambda n: n.startswith("ss_") or n == "ss.csv", ("fiscal_yr", "service_id", "service_standard_id")),
    "rbpo": (lambda n: n.startswith("rbpo"), ("fy_ef", "organization_id", "program_id")),
}


def inventory_files(location: str, kind: str) -> list[Path]:
    """The files of one kind a location names (a directory, or one of the files)."""
    path = Path(location)
    if path.is_file():
        candidates = [path]
    elif path.is_dir():
        candidates = sorted(p for p in path.iterdir() if p.is_file())
        if not any(_kind_of(p) for p in candidates):
            raise SourceFileError(location, "holds no si_*.csv, ss_*.csv or rbpo.csv")
    else:
        raise SourceFileError(location, "no such file or directory")
    if path.is_file() and _kind_of(path) is None:
        raise SourceFileError(location, "is not a service inventory file (si_*.csv, ss_*.csv or rbpo.csv)")
    return [p for p in candidates if _kind_of(p) == kind]


def _kind_of(path: Path) -> str | None:
    name = path.name.lower()
    if path.suffix.lower() != ".csv":
        return None
    return next((kind for kind, (test, _) in FILES.items() if test(name)), None)


def read_rows(path: Path, kind: str) -> list[dict]:
    """All rows of an inventory CSV as dicts of text (the files are a few MB)."""
    required = FILES[kind][1]
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in required if c not in (reader.fieldnames or [])]
            if missing:
                raise SourceFileError(str(path), f"not a {kind} file: column(s) {', '.join(missing)} missing")
            rows = []
            for row in reader:
                if None in row:  # more cells than header names
                    raise SourceFileError(str(path), f"line {reader.line_num} has more cells than the header")
                rows.append(row)
            return rows
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise SourceFileError(str(path), str(err)) from err


class GcServiceInventoryKind(FeedKind):
    kind = "gc_service_inventory"
    entities = ("service_transactions", "service_standard_results", "services", "ledger_entries")
    reads = {
        "services": Reads(
            lambda location: inventory_files(location, "si"),
            mapped(lambda _, path: service_records(read_rows(path, "si")), SERVICE_COLUMNS),
        ),
        "service_transactions": Reads(
            lambda location: inventory_files(location, "si"),
            mapped(
                lambda _, path: [t for r in read_rows(path, "si") for t in transaction_records(r)], TRANSACTION_COLUMNS
            ),
        ),
        "service_standard_results": Reads(
            lambda location: inventory_files(location, "ss"),
            mapped(lambda _, path: [standard_record(r) for r in read_rows(path, "ss")], STANDARD_COLUMNS),
        ),
        "ledger_entries": Reads(
            lambda location: inventory_files(location, "rbpo"),
            mapped(lambda _, path: ledger_entries(read_rows(path, "rbpo")), LEDGER_COLUMNS),
        ),
    }


def ledger_entries(rows: list[dict]) -> list[dict]:
    ahead = planned_next_year(rows)
    return [e for r in rows for e in ledger_records(r, ahead)]
