"""A Fiscal Data Package descriptor (datapackage.json), read tolerant of version drift.

The spec moved between drafts: the logical model is under `model` (1.0) or `mapping`
(0.3); measures and dimensions are arrays of objects with a `name` (0.3) or objects keyed
by name (1.0 and the openspending demos); a dimension's columns are `attributes` (an
object, or an array) or `fields` (an array); `primaryKey` is a string or a list;
`resources` and a resource's schema `fields` may be arrays or objects too. This module
turns any of these into one shape and finds the dimensions a ledger needs by their
declared type first, their name second.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath

from ingestion.errors import SourceFileError
from ingestion.feeds.fiscal_labels import fiscal_year_end


@dataclass(frozen=True)
class Measure:
    name: str
    source: str
    resource: str | None
    currency: str | None
    factor: str | None
    direction: str | None
    phase: str | None
    year: int | None  # stated by the measure (property or an FY-label name), else None


@dataclass(frozen=True)
class Attribute:
    name: str
    source: str
    labelfor: str | None = None


@dataclass(frozen=True)
class Dimension:
    name: str
    dimension_type: str | None
    classification_type: str | None
    attributes: tuple[Attribute, ...]
    primary_key: tuple[str, ...]

    def key_sources(self) -> list[str]:
        """The columns whose values, joined with '.', identify a member."""
        by_name = {a.name: a for a in self.attributes}
        keys = [by_name[k].source for k in self.primary_key if k in by_name]
        if keys:
            return keys
        plain = [a.source for a in self.attributes if not a.labelfor]
        return plain[:1] or [a.source for a in self.attributes[:1]]

    def label_source(self) -> str | None:
        """The column labelling the most detailed key attribute, if one is declared."""
        for key in reversed(self.primary_key):
            for a in self.attributes:
                if a.labelfor == key:
                    return a.source
        return None


@dataclass(frozen=True)
class Resource:
    name: str
    path: str
    encoding: str
    delimiter: str
    fields: tuple[str, ...]


@dataclass(frozen=True)
class Package:
    name: str
    country: str | None
    phase: str | None
    currency: str | None
    direction: str | None
    fiscal_year: int | None  # a fiscalPeriod that is one fiscal year
    resources: tuple[Resource, ...]
    measures: tuple[Measure, ...]
    dimensions: tuple[Dimension, ...] = field(default_factory=tuple)

    def resource(self, name: str | None) -> Resource:
        """A measure's resource; without one, the first (as the spec says)."""
        if name is None:
            return self.resources[0]
        for r in self.resources:
            if r.name == name:
                return r
        raise KeyError(name)


def named_items(value, key: str = "name") -> list[dict]:
    """An array of objects with names, or an object keyed by name -> list of objects with
    the name set (a bare string in an array is an object naming itself)."""
    if value is None:
        return []
    if isinstance(value, dict):
        return [
            {
                **(v if isinstance(v, dict) else {"source": v}),
                key: (v.get(key) if isinstance(v, dict) and v.get(key) else k),
            }
            for k, v in value.items()
        ]
    if isinstance(value, list):
        return [v if isinstance(v, dict) else {key: str(v)} for v in value]
    raise ValueError(f"expected an array or an object, got {type(value).__name__}")


def _text(value) -> str | None:
    return None if value is None or str(value).strip() == "" else str(value).strip()


def parse_measure(item: dict) -> Measure:
    name = str(item["name"])
    source = _text(item.get("source")) or name
    stated = item.get("fiscalYear", item.get("fiscal_year", item.get("year")))
    year = fiscal_year_end(stated) if stated is not None else (fiscal_year_end(name) or fiscal_year_end(source))
    return Measure(
        name=name,
        source=source,
        resource=_text(item.get("resource")),
        currency=_text(item.get("currency")),
        factor=_text(item.get("factor")),
        direction=_text(item.get("direction")),
        phase=_text(item.get("phase")),
        year=year,
    )


def parse_dimension(item: dict) -> Dimension:
    raw = item.get("attributes", item.get("fields"))
    attributes = tuple(
        Attribute(
            name=str(a["name"]), source=_text(a.get("source")) or str(a["name"]), labelfor=_text(a.get("labelfor"))
        )
        for a in named_items(raw)
    )
    key = item.get("primaryKey")
    primary = tuple([key] if isinstance(key, str) else (key or []))
    return Dimension(
        name=str(item["name"]),
        dimension_type=(_text(item.get("dimensionType")) or "").lower() or None,
        classification_type=(_text(item.get("classificationType")) or "").lower() or None,
        attributes=attributes,
        primary_key=tuple(str(k) for k in primary),
    )


def parse_resource(item: dict) -> Resource:
    path = item.get("path")
    if isinstance(path, list):  # a resource split over several files: not supported
        path = path[0] if len(path) == 1 else None
    dialect = item.get("dialect") or {}
    schema = item.get("schema") or {}
    return Resource(
        name=str(item.get("name") or path or "resource"),
        path=str(path) if path else "",
        encoding=str(item.get("encoding") or "utf-8"),
        delimiter=str(dialect.get("delimiter") or ","),
        fields=tuple(str(f["name"]) for f in named_items(schema.get("fields"))),
    )


def _single_year(period) -> int | None:
    """fiscalPeriod as {start, end} or 'start/end': its year when it spans one year."""
    if isinstance(period, str) and "/" in period:
        start, end = period.split("/", 1)
    elif isinstance(period, dict):
        start, end = str(period.get("start") or ""), str(period.get("end") or "")
    else:
        return None
    if len(start) >= 4 and len(end) >= 4 and start[:4].isdigit() and end[:4].isdigit():
        first, last = int(start[:4]), int(end[:4])
        if last == first:
            return last
        if last == first + 1 and end[4:] < start[4:]:  # e.g. 2015-07-01/2016-06-30
            return last
    return None


def resource_file(package_dir: Path, resource_path: str) -> Path:
    """The file a resource path names, inside the package directory; ValueError for an
    absolute path or one that leaves the package (`..`, a symlink out): a descriptor
    must not make the lake read a file its publisher did not ship with it."""
    if PurePosixPath(resource_path).is_absolute() or PureWindowsPath(resource_path).is_absolute():
        raise ValueError(f"resource path {resource_path!r} is absolute: only files inside the package are read")
    root = package_dir.resolve()
    target = (root / resource_path).resolve()
    if not target.is_relative_to(root):
        raise ValueError(f"resource path {resource_path!r} is outside the package directory {root}")
    return target


def parse_package(descriptor: dict) -> Package:
    """The descriptor as one shape; ValueError (with what is wrong) if it has no usable model."""
    model = descriptor.get("model") or descriptor.get("mapping")
    if not isinstance(model, dict):
        raise ValueError("no `model` (or `mapping`) object")
    measures = tuple(parse_measure(m) for m in named_items(model.get("measures")))
    if not measures:
        raise ValueError("the model declares no measures")
    resources = tuple(parse_resource(r) for r in named_items(descriptor.get("resources")))
    if not resources:
        raise ValueError("no resources")
    return Package(
        name=str(descriptor.get("name") or "fdp"),
        country=_text(descriptor.get("countryCode")),
        phase=_text(descriptor.get("phase")),
        currency=_text(descriptor.get("currency")),
        direction=_text(descriptor.get("direction")),
        fiscal_year=_single_year(descriptor.get("fiscalPeriod")),
        resources=resources,
        measures=measures,
        dimensions=tuple(parse_dimension(d) for d in named_items(model.get("dimensions"))),
    )


def read_package(path: Path) -> Package:
    try:
        descriptor = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise SourceFileError(str(path), f"not valid JSON ({err})") from err
    if not isinstance(descriptor, dict):
        raise SourceFileError(str(path), "expected a JSON object")
    try:
        return parse_package(descriptor)
    except (ValueError, KeyError, TypeError) as err:
        raise SourceFileError(str(path), f"not a fiscal data package: {err}") from err


# --- the dimensions a ledger entry needs -------------------------------------------

_PROGRAMME = {"program", "programme", "programa", "programs", "programmes", "activity", "project"}
_ADMIN = {
    "administrative",
    "administrator",
    "administration",
    "department/agency",
    "department",
    "agency",
    "organisation",
    "organization",
    "entity",
    "ministry",
}
_ECONOMIC = {"economic", "economic-classification", "chart-of-accounts", "gfsm", "gsfm"}
_DATE = {"date", "year", "fiscal-year", "fiscal_year", "fiscalyear", "time", "period"}


def find_dimension(package: Package, role: str) -> Dimension | None:
    """The dimension playing a role (programme, administrative, economic, date, cofog):
    by declared dimensionType/classificationType first, then by name."""
    dims = package.dimensions
    typed = {
        "programme": [d for d in dims if d.dimension_type in ("activity", "project", "program", "programme")],
        "administrative": [
            d
            for d in dims
            if d.classification_type == "administrative" or d.dimension_type in ("entity", "administrative")
        ],
        "economic": [d for d in dims if d.classification_type == "economic"],
        "date": [d for d in dims if d.dimension_type == "datetime"],
        "cofog": [d for d in dims if d.name.lower() == "cofog"],
    }[role]
    if typed:
        return typed[0]
    names = {"programme": _PROGRAMME, "administrative": _ADMIN, "economic": _ECONOMIC, "date": _DATE, "cofog": set()}[
        role
    ]
    return next((d for d in dims if d.name.lower() in names), None)
