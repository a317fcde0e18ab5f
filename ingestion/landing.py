"""Where a fiscal year's landing files for an entity are: `<landing>/<entity>/fy=<year>/`."""

from __future__ import annotations

from pathlib import Path

from ingestion.readers import FORMATS


def year_folder(landing: str | Path, entity: str, fiscal_year: int) -> Path:
    return Path(landing) / entity / f"fy={fiscal_year}"


def landing_files(landing: str | Path, entity: str, fiscal_year: int) -> list[Path]:
    """The readable files dropped for one entity and fiscal year, in a stable order."""
    folder = year_folder(landing, entity, fiscal_year)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in FORMATS)
