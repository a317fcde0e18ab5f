"""Open Fiscal Data Package (datapackage.json + CSV resources) -> `ledger_entries`.

Each (CSV row, measure) is one ledger entry: a wide table with one measure per fiscal
year (the Australian budget's 2014-15 ... 2018-19 columns) becomes long rows. The
descriptor says which column is the amount (measure `source`), in which currency, with
which `factor`, `direction` and `phase`; its dimensions say which columns are the
programme, the administrative unit (cost centre) and the economic classification.
What the package leaves out can be filled in by fdp_mappings' reviewed files; what it
states always wins. Rules: docs/sources_gc_fdp.md.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pyarrow as pa

from contracts.models import PHASES
from ingestion.errors import SourceFileError
from ingestion.feeds.base import BATCH_ROWS, FeedKind, computed_columns, text_batches
from ingestion.feeds.fdp_mappings import cofog_for, economic_for, measure_override
from ingestion.feeds.fdp_package import (
    Dimension,
    Measure,
    Package,
    Resource,
    find_dimension,
    read_package,
    resource_file,
)
from ingestion.feeds.fiscal_labels import fiscal_year_end

LEDGER_COLUMNS = computed_columns("ledger_entries")
# what each entry adds besides the canonical columns and the row's own columns
ADDED_COLUMNS = frozenset(
    {
        "programme_label",
        "cost_centre_label",
        "economic_code",
        "economic_label",
        "economic_basis",
        "cofog_basis",
        "fdp_package",
        "fdp_resource",
        "source_row",
        "measure",
        "amount_published",
        "amount_status",
        "factor",
        "direction",
        "phase_basis",
        "measure_note",
    }
)
# phase words seen outside the spec's four
PHASE_SYNONYMS = {"actual": "executed", "actuals": "executed", "revised": "adjusted"}
# budget tables print a dash for nil, and "nfp" for a figure not for publication
NIL = ("-", "\u2013", "\u2014")
NOT_PUBLISHED = ("nfp", "n.f.p.")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
_GROUPED = re.compile(r"^-?\d{1,3}(,\d{3})+(\.\d+)?$")


def column_name(header: str) -> str:
    """A source header as a column name: 'Department/Agency' -> 'department_agency',
    'AÑO' -> 'ano', '2014-15' -> 'v_2014_15' (names must not start with a digit)."""
    ascii_text = unicodedata.normalize("NFKD", header).encode("ascii", "ignore").decode()
    name = re.sub(r"[^a-z0-9]+", "_", ascii_text.lower()).strip("_") or "column"
    return f"v_{name}" if name[0].isdigit() else name


def phase_of(text: str | None) -> str | None:
    """FDP phase -> ours; an unknown word is passed on (the contract rejects it)."""
    if text is None:
        return None
    word = text.strip().lower()
    return word if word in PHASES else PHASE_SYNONYMS.get(word, text.strip())


def scaled_amount(text: str | None, factor: Decimal) -> tuple[str | None, str]:
    """A measure cell times the factor, as exact decimal text, with its status:
    'reported', 'nil' (a dash: zero), 'blank' (no value), 'not_for_publication' ('nfp')
    or 'unreadable'. The last two are passed on as they are: the contract cannot read
    them as an amount and quarantines the entry."""
    value = (text or "").strip()
    if not value:
        return None, "blank"
    if value in NIL:
        return "0", "nil"
    if value.lower() in NOT_PUBLISHED:
        return value, "not_for_publication"
    if _GROUPED.match(value):
        value = value.replace(",", "")
    if not _NUMBER.match(value):
        return value, "unreadable"
    return format((Decimal(value) * factor).normalize(), "f"), "reported"


def package_file(location: str) -> Path:
    path = Path(location)
    if path.is_dir():
        path = path / "datapackage.json"
    if not path.is_file():
        raise SourceFileError(location, "no datapackage.json here")
    return path


class _Measure:
    """A measure with what the package left out filled in, and where each value came from."""

    def __init__(self, package: Package, measure: Measure):
        self.measure = measure
        self.notes: list[str] = []

        def pick(fld: str, stated: str | None, package_level: str | None = None) -> tuple[str | None, str | None]:
            if stated is not None:
                return stated, "measure"
            if package_level is not None:
                return package_level, "package"
            hit = measure_override(package.name, measure.name, fld)
            if hit:
                if hit[1] not in self.notes:
                    self.notes.append(hit[1])
                return hit[0], "mappings/fdp_measures.csv"
            return None, None

        factor, self.factor_basis = pick("factor", measure.factor)
        try:
            self.factor = Decimal(factor) if factor is not None else Decimal(1)
        except InvalidOperation:
            raise ValueError(f"measure {measure.name!r} has factor {factor!r}, not a number") from None
        phase, self.phase_basis = pick("phase", measure.phase, package.phase)
        self.phase = phase_of(phase)
        self.direction, _ = pick("direction", measure.direction, package.direction)
        self.currency, _ = pick("currency", measure.currency, package.currency)


class _Ledger:
    """Maps the rows of one package's resources onto ledger entries."""

    def __init__(self, package: Package, descriptor: Path):
        self.package = package
        self.descriptor = descriptor
        try:
            self.measures = [_Measure(package, m) for m in package.measures]
        except ValueError as err:
            raise SourceFileError(str(descriptor), str(err)) from err
        self.programme = find_dimension(package, "programme")
        self.admin = find_dimension(package, "administrative")
        self.economic = find_dimension(package, "economic")
        self.date = find_dimension(package, "date")
        self.cofog = find_dimension(package, "cofog")

    def by_resource(self) -> list[tuple[Resource, list[_Measure]]]:
        groups: dict[str, tuple[Resource, list[_Measure]]] = {}
        for m in self.measures:
            try:
                resource = self.package.resource(m.measure.resource)
            except KeyError:
                raise SourceFileError(
                    str(self.descriptor), f"measure {m.measure.name!r} names an unknown resource {m.measure.resource!r}"
                ) from None
            groups.setdefault(resource.name, (resource, []))[1].append(m)
        return list(groups.values())

    def needed_columns(self, measures: list[_Measure]) -> list[str]:
        cols = [m.measure.source for m in measures]
        for dim in (self.programme, self.admin, self.economic, self.date, self.cofog):
            if dim is not None:
                cols += dim.key_sources()
        return cols

    def entries(self, resource: Resource, number: int, row: dict, measures: list[_Measure]) -> list[dict]:
        context = self._context(row)
        kept = {column_name(k): v for k, v in row.items()}
        # a source column named like one of ours is kept as source_<name>
        kept = {(f"source_{k}" if k in LEDGER_COLUMNS or k in ADDED_COLUMNS else k): v for k, v in kept.items()}
        entries = []
        for m in measures:
            amount, status = scaled_amount(row.get(m.measure.source), m.factor)
            if status == "blank":
                continue
            entries.append(self._entry(resource, number, m, amount, status, row, context, kept))
        if not entries:  # nothing in any measure: one entry without amount, quarantined
            entries.append(
                {
                    **self._entry(resource, number, measures[0], None, "blank", row, context, kept),
                    "_reason": "every measure of this row is blank",
                }
            )
        return entries

    def _context(self, row: dict) -> dict:
        programme = _key(self.programme, row)
        economic_levels = [(row.get(c) or "").strip() for c in self.economic.key_sources()] if self.economic else []
        economic = economic_for(self.package.name, [x for x in economic_levels if x]) if economic_levels else None
        cofog_from_dim = _cofog_division(_key(self.cofog, row)) if self.cofog else None
        cofog = None if cofog_from_dim else cofog_for(self.package.name, programme)
        return {
            "_programme_id": programme,
            "_cost_centre": _key(self.admin, row),
            "_economic_class": economic.value or None if economic else None,
            "programme_label": _label(self.programme, row),
            "cost_centre_label": _label(self.admin, row),
            "economic_code": ".".join(x for x in economic_levels if x) or None,
            "economic_label": _label(self.economic, row),
            "economic_basis": f"mappings/fdp_economic.csv {economic.key}: {economic.note}" if economic else None,
            "_cofog_division": cofog_from_dim or (cofog.value or None if cofog else None),
            "cofog_basis": (
                "package cofog dimension"
                if cofog_from_dim
                else f"mappings/fdp_cofog.csv {cofog.key}: {cofog.note}"
                if cofog
                else None
            ),
            "row_year": _key(self.date, row),
        }

    def _entry(self, resource, number, m: _Measure, amount, status, row, context, kept) -> dict:
        year = m.measure.year or fiscal_year_end(context["row_year"]) or self.package.fiscal_year
        return {
            **kept,
            **{k: v for k, v in context.items() if k != "row_year"},
            "_entry_id": f"{self.package.name}:{resource.name}:{number}:{m.measure.name}",
            "_fiscal_year": None if year is None else str(year),
            "_service_id": None,
            "_channel": None,
            "_phase": m.phase,
            "_amount": amount,
            "_currency": m.currency,
            "fdp_package": self.package.name,
            "fdp_resource": resource.name,
            "source_row": str(number),
            "measure": m.measure.name,
            "amount_published": row.get(m.measure.source),
            "amount_status": status,
            "factor": format(m.factor.normalize(), "f"),
            "direction": m.direction,
            "phase_basis": m.phase_basis,
            "measure_note": "; ".join(m.notes) or None,
            "_reason": (
                f"{m.measure.name} is {amount!r}: not for publication, the publisher withholds the figure"
                if status == "not_for_publication"
                else None
            ),
        }


def _key(dim: Dimension | None, row: dict) -> str | None:
    if dim is None:
        return None
    parts = [(row.get(c) or "").strip() for c in dim.key_sources()]
    return ".".join(p for p in parts if p) or None


def _label(dim: Dimension | None, row: dict) -> str | None:
    source = dim.label_source() if dim else None
    return (row.get(source) or "").strip() or None if source else None


def _cofog_division(code: str | None) -> str | None:
    """A COFOG code ('07.3', '073', '7') -> its division '07'."""
    if not code:
        return None
    head = code.split(".")[0]
    if len(head) > 2 and "." not in code:
        head = head[:2]
    return head.zfill(2) if head.isdigit() and 1 <= int(head) <= 10 else None


def read_resource(path: Path, resource: Resource, needed: list[str]) -> Iterator[tuple[int, dict]]:
    """(data row number from 1, row) of a CSV resource, every cell as text."""
    encoding = "utf-8-sig" if resource.encoding.lower().replace("_", "-") in ("utf-8", "utf8") else resource.encoding
    try:
        with open(path, newline="", encoding=encoding) as fh:
            reader = csv.DictReader(fh, delimiter=resource.delimiter)
            missing = sorted(set(needed) - set(reader.fieldnames or []))
            if missing:
                raise SourceFileError(str(path), f"column(s) the datapackage maps are missing: {', '.join(missing)}")
            for number, row in enumerate(reader, start=1):
                if None in row:
                    raise SourceFileError(str(path), f"line {reader.line_num} has more cells than the header")
                yield number, row
    except (OSError, UnicodeDecodeError, LookupError, csv.Error) as err:
        raise SourceFileError(str(path), str(err)) from err


class FiscalDataPackageKind(FeedKind):
    kind = "fiscal_data_package"
    entities = ("ledger_entries",)

    def extract(self, location: str, entity: str) -> Iterator[tuple[str, pa.RecordBatch]]:
        if entity != "ledger_entries":
            return
        descriptor = package_file(location)
        ledger = _Ledger(read_package(descriptor), descriptor)
        for resource, measures in ledger.by_resource():
            if not resource.path or "://" in resource.path:
                raise SourceFileError(
                    str(descriptor), f"resource {resource.name!r} is not a local file ({resource.path or 'no path'})"
                )
            try:
                path = resource_file(descriptor.parent, resource.path)
            except ValueError as err:
                raise SourceFileError(str(descriptor), str(err)) from None
            records: list[dict] = []
            for number, row in read_resource(path, resource, ledger.needed_columns(measures)):
                records.extend(ledger.entries(resource, number, row, measures))
                if len(records) >= BATCH_ROWS:
                    yield from ((str(path), b) for b in text_batches(records, LEDGER_COLUMNS))
                    records = []
            if records:
                yield from ((str(path), b) for b in text_batches(records, LEDGER_COLUMNS))
