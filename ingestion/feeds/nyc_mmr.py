"""NYC Mayor's Management Report indicators, in the Comptroller's tidy export
(`Tidy Indicator Level Data.csv`): one row per indicator with its value for each fiscal
year (2016..2023 as columns), desired direction, critical flag, target and success.

Each (indicator, year) becomes a `kpi_observations` row of kpi `indicator` with the
indicator's name as dimension and the MMR service statement as service. Years are NYC
fiscal years (July-June): 2023 starts on 2022-07-01 and is filed as FY2023, by its
label, whatever the lake's calendar (contracts.entities.STATED_FISCAL_YEAR). "NA" is not available: a null value,
loaded. Target.MMR and Success are the indicator's latest-year (2023) target and result,
kept as they came on every row. The budget maps (MMR_Service_UA_Map.csv,
UA_Oct_Vacancy.csv) are not KPIs and are not read (docs/sources_kpi_survey.md).
"""

from __future__ import annotations

import re
from pathlib import Path

from contracts.entities import STATED_FISCAL_YEAR
from ingestion.errors import SourceFileError
from ingestion.feeds.base import (
    FeedKind,
    Reads,
    mapped,
    read_csv_records,
    suffixed,
)
from ingestion.feeds.kpi_feeds import KPI_COLUMNS, observation

# each figure is labelled with its (NYC, July-June) fiscal year: the label files it
MMR_COLUMNS = {**KPI_COLUMNS, STATED_FISCAL_YEAR: STATED_FISCAL_YEAR}

PUBLISHER = "nyc_mmr"
# the unit an indicator's name ends with, where it is one
UNITS = {
    "%": "percent",
    "days": "days",
    "calendar days": "days",
    "business days": "business days",
    "hours": "hours",
    "minutes": "minutes",
    "minutes:seconds": "minutes:seconds",
    "000": "thousands",
    "$000": "USD thousands",
    "$000,000": "USD millions",
    "millions": "millions",
}
_YEAR = re.compile(r"^(19|20)\d{2}$")
_UNIT = re.compile(r"\(([^()]*)\)\s*$")
_NA = {"", "NA", "N/A", "#N/A"}


def snake(name: str) -> str:
    """'Desired.Direction' -> 'desired_direction'; 'U.A.Name' -> 'u_a_name'."""
    return re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_") or "row_number"


def unit_of(indicator: str) -> str | None:
    match = _UNIT.search(indicator or "")
    return UNITS.get(match.group(1).strip()) if match else None


def _text(value: str | None) -> str | None:
    value = (value or "").strip()
    return None if value in _NA else value


def records_of(path: Path) -> list[dict]:
    header, rows = read_csv_records(path)
    years = sorted(h for h in header if _YEAR.match(h.strip()))
    missing = {"ID", "Indicator", "Service"} - set(header)
    if missing or not years:
        raise SourceFileError(
            str(path),
            f"not the MMR tidy indicator table (needs ID, Indicator, Service and year columns; missing {sorted(missing) or 'years'})",
        )
    records = []
    for row in rows:
        indicator = _text(row.get("Indicator"))
        service = _text(row.get("Service"))
        kept = {snake(k): _text(v) for k, v in row.items() if k is not None and k not in years}
        kept["indicator_id"] = kept.pop("id", None)
        for year in years:
            start = f"{int(year) - 1}-07-01"  # NYC fiscal year `year` starts 1 July of the year before
            # "2023" is NYC's fiscal year 2023, filed as FY2023 whatever the lake's calendar
            record = dict(kept, fiscal_year_label=year, _stated_fiscal_year=year)
            record.update(
                observation(
                    PUBLISHER,
                    service,
                    service,
                    "indicator",
                    indicator,
                    None,
                    start,
                    "year",
                    _text(row.get(year)),
                    unit_of(indicator or ""),
                )
            )
            # indicator names repeat across agencies and services: the MMR ID is the key
            record["_observation_id"] = f"{PUBLISHER}/{kept['indicator_id']}/{year}" if kept["indicator_id"] else None
            records.append(record)
    return records


class NycMmrKind(FeedKind):
    kind = "nyc_mmr"
    entities = ("kpi_observations",)
    reads = {
        "kpi_observations": Reads(
            suffixed((".csv",), "indicator"), mapped(lambda _, path: records_of(path), MMR_COLUMNS)
        )
    }
