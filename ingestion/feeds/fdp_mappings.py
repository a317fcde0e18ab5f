"""What a fiscal data package does not say, stated once in reviewed CSV files
(ingestion/feeds/mappings/), keyed by the package's `name`:

- fdp_cofog.csv (source, programme, cofog_division, note): a programme code or code
  prefix -> COFOG division '01'..'10' (blank: known to have none); the longest
  matching prefix wins;
- fdp_economic.csv (source, code, economic_class, note): an economic classification code
  (or its top level, e.g. a Spanish chapter) -> personnel, operating, capital, transfer;
- fdp_measures.csv (source, measure, field, value, note): factor, phase, direction,
  currency for a measure ('*' = every measure) the package leaves out. They only fill
  gaps: what the package states always wins.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

MAPPINGS = Path(__file__).resolve().parent / "mappings"
ECONOMIC_CLASSES = ("personnel", "operating", "capital", "transfer")
COFOG_DIVISIONS = tuple(f"{n:02d}" for n in range(1, 11))
MEASURE_FIELDS = ("factor", "phase", "direction", "currency")


@dataclass(frozen=True)
class Mapped:
    value: str
    note: str
    key: str  # the code or prefix that matched


def _rows(name: str) -> list[dict]:
    with open(MAPPINGS / name, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@cache
def cofog_table() -> dict[str, dict[str, tuple[str, str]]]:
    """source -> programme prefix -> (division, note)."""
    table: dict[str, dict[str, tuple[str, str]]] = {}
    for row in _rows("fdp_cofog.csv"):
        division = row["cofog_division"].strip()
        if division and division not in COFOG_DIVISIONS:  # blank: known to have no division
            raise ValueError(f"fdp_cofog.csv: {division!r} is not a COFOG division 01..10")
        table.setdefault(row["source"].strip(), {})[row["programme"].strip()] = (division, row["note"].strip())
    return table


@cache
def economic_table() -> dict[str, dict[str, tuple[str, str]]]:
    table: dict[str, dict[str, tuple[str, str]]] = {}
    for row in _rows("fdp_economic.csv"):
        cls = row["economic_class"].strip()
        if cls and cls not in ECONOMIC_CLASSES:
            raise ValueError(f"fdp_economic.csv: {cls!r} is not one of {', '.join(ECONOMIC_CLASSES)}")
        table.setdefault(row["source"].strip(), {})[row["code"].strip()] = (cls, row["note"].strip())
    return table


@cache
def measure_table() -> dict[tuple[str, str], dict[str, tuple[str, str]]]:
    """(source, measure or '*') -> field -> (value, note)."""
    table: dict[tuple[str, str], dict[str, tuple[str, str]]] = {}
    for row in _rows("fdp_measures.csv"):
        fld = row["field"].strip()
        if fld not in MEASURE_FIELDS:
            raise ValueError(f"fdp_measures.csv: unknown field {fld!r} (known: {', '.join(MEASURE_FIELDS)})")
        key = (row["source"].strip(), row["measure"].strip())
        table.setdefault(key, {})[fld] = (row["value"].strip(), row["note"].strip())
    return table


def longest_prefix(table: dict[str, tuple[str, str]], code: str | None) -> Mapped | None:
    """The entry whose key is the longest prefix of `code`."""
    if not code:
        return None
    for end in range(len(code), 0, -1):
        hit = table.get(code[:end])
        if hit:
            return Mapped(hit[0], hit[1], code[:end])
    return None


def cofog_for(source: str, programme: str | None) -> Mapped | None:
    return longest_prefix(cofog_table().get(source, {}), programme)


def economic_for(source: str, levels: list[str]) -> Mapped | None:
    """The most detailed level of an economic code that the table knows (the code is
    given as its levels, most aggregate first: ['1', '12000'])."""
    table = economic_table().get(source, {})
    for end in range(len(levels), 0, -1):
        key = ".".join(levels[:end])
        if key in table:
            cls, note = table[key]
            return Mapped(cls, note, key)
    return None


def measure_override(source: str, measure: str, fld: str) -> tuple[str, str] | None:
    """(value, note) the mapping file gives a measure's field: the measure's own line
    first, then the package's '*' line."""
    table = measure_table()
    for key in ((source, measure), (source, "*")):
        hit = table.get(key, {}).get(fld)
        if hit and hit[0]:
            return hit
    return None
