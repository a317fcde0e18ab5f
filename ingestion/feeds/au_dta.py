"""Australian DTA Performance Dashboard: per service a `<service>-data.json` (datasets of
monthly `{label: "YYYY-MM", value}`) and a `<service>-definition.json` (the service's
name, widgets and the notes that say how each KPI is measured there).

The four dashboard KPIs map onto ours; every other dataset (devices, browsers, traffic
sources, enrolments, ...) is kept as kpi `indicator` with the dataset id as dimension.
A null value is the dashboard's "not available": loaded as a null value, not dropped.
"""

from __future__ import annotations

import json
from pathlib import Path

from ingestion.errors import SourceFileError
from ingestion.feeds.base import FeedKind, Reads, files_in, mapped
from ingestion.feeds.kpi_feeds import KPI_COLUMNS, observation

PUBLISHER = "au_dta"
# dataset id -> kpi; the definition widgets name them "User satisfaction", "Digital
# take-up", "Completion rate" and "Cost per transaction"
KPIS = {
    "user-satisfaction": "user_satisfaction",
    "digital-take-up": "digital_take_up",
    "completion-rate": "completion_rate",
    "cost-per-transaction": "cost_per_transaction",
}
# the dashboard's unit codes (%, $, n number, i integer, s seconds)
UNITS = {"%": "percent", "$": "AUD", "n": "number", "i": "count", "s": "seconds"}
_SUFFIX = "-data.json"


def _load(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise SourceFileError(str(path), f"not valid JSON ({err})") from err
    if not isinstance(data, dict):
        raise SourceFileError(str(path), "expected a JSON object")
    return data


def definition_of(path: Path) -> dict:
    """The `<service>-definition.json` beside a data file: without it the service has no name."""
    definition = path.with_name(path.name[: -len(_SUFFIX)] + "-definition.json")
    if not definition.is_file():
        raise SourceFileError(str(path), f"its definition file {definition.name} is missing")
    data = _load(definition)
    if not data.get("name"):
        raise SourceFileError(str(definition), "the definition names no service")
    return data


def _widget_units(definition: dict) -> dict[str, str]:
    """dataset id -> the units of the (non-summary) widget that shows it."""
    units: dict[str, str] = {}
    for widget in definition.get("widgets") or []:
        if widget.get("id") == "kpis":  # the hero summary widget says "n" for all four
            continue
        for dataset_id in widget.get("datasets") or []:
            if widget.get("units"):
                units.setdefault(dataset_id, widget["units"])
    return units


def _kpi_notes(definition: dict) -> dict[str, str]:
    """kpi -> the definition's note on how this service measures it."""
    by_title = {str(n.get("title", "")).strip().lower(): n.get("body") for n in definition.get("notes") or []}
    names = {
        "user_satisfaction": "user satisfaction",
        "digital_take_up": "digital take-up",
        "completion_rate": "completion rate",
        "cost_per_transaction": "cost per transaction",
    }
    return {kpi: by_title.get(title) for kpi, title in names.items()}


def records_of(path: Path) -> list[dict]:
    definition = definition_of(path)
    data = _load(path)
    datasets = data.get("datasets")
    if not isinstance(datasets, list):
        raise SourceFileError(str(path), "no `datasets` list")
    service_id = path.name[: -len(_SUFFIX)]
    name = definition["name"]
    widget_units = _widget_units(definition)
    notes = _kpi_notes(definition)
    records = []
    for ds in datasets:
        dataset_id = ds.get("id")
        kpi = KPIS.get(dataset_id, "indicator")
        dimension = None if kpi != "indicator" else dataset_id
        symbol = ds.get("units") or widget_units.get(dataset_id)
        unit = UNITS.get(symbol, symbol)
        for point in ds.get("data") or []:
            label = point.get("label")
            period_start = f"{label}-01" if isinstance(label, str) else None
            record = {
                "agency": data.get("agency"),
                "dataset_name": ds.get("name"),
                "dataset_label": ds.get("label"),
                "source_units": ds.get("units"),
                "period_label": label,
                "kpi_note": notes.get(kpi),
                "raw": point.get("raw"),
                "raw_total": point.get("rawTotal"),
            }
            record.update(
                observation(
                    PUBLISHER,
                    service_id,
                    name,
                    kpi,
                    dimension,
                    None,
                    period_start,
                    "month",
                    point.get("value"),
                    unit,
                )
            )
            records.append(record)
    return records


def dashboard_files(location: str) -> list[Path]:
    return [p for p in files_in(location, (".json",), _SUFFIX) if p.name.lower().endswith(_SUFFIX)]


class AuDtaKind(FeedKind):
    kind = "au_dta"
    entities = ("kpi_observations",)
    reads = {"kpi_observations": Reads(dashboard_files, mapped(lambda _, path: records_of(path), KPI_COLUMNS))}
