"""The explanations services give for missed targets (`plans/explanations.yml`).

A versioned file keyed by service, measure and fiscal year, so an explanation is reviewed
like code; a missed target with no entry is shown as "no explanation given"."""

from __future__ import annotations

from pathlib import Path

import yaml

DEFAULT_PATH = Path(__file__).resolve().parents[1] / "plans" / "explanations.yml"
NO_EXPLANATION = "no explanation given"


class ExplanationsError(ValueError):
    """The explanations file is malformed; the message names the entry and the fix."""


def parse_explanations(text: str, origin: str = "explanations.yml") -> dict[tuple[str, str, int], str]:
    """{(service_id, measure, fiscal_year): explanation} from the YAML text, validated."""
    try:
        doc = yaml.safe_load(text) or {}
    except yaml.YAMLError as err:
        raise ExplanationsError(f"{origin} is not valid YAML: {str(err).splitlines()[0]}") from err
    if not isinstance(doc, dict) or not isinstance(doc.get("explanations", []), list):
        raise ExplanationsError(f"{origin}: expected a mapping with a list `explanations`")
    out: dict[tuple[str, str, int], str] = {}
    for i, entry in enumerate(doc.get("explanations") or [], start=1):
        where = f"{origin} entry {i}"
        if not isinstance(entry, dict):
            raise ExplanationsError(f"{where}: expected a mapping with service_id, measure, fiscal_year, explanation")
        missing = [k for k in ("service_id", "measure", "fiscal_year", "explanation") if entry.get(k) in (None, "")]
        if missing:
            raise ExplanationsError(f"{where}: missing {', '.join(missing)}")
        year = entry["fiscal_year"]
        if not isinstance(year, int) or isinstance(year, bool):
            raise ExplanationsError(f"{where}: fiscal_year must be a whole year such as 2025, not {year!r}")
        key = (str(entry["service_id"]), str(entry["measure"]), year)
        if key in out:
            raise ExplanationsError(f"{where}: a second explanation for {key[0]} / {key[1]} / FY{key[2]}")
        out[key] = str(entry["explanation"]).strip()
    return out


def read_explanations(path: Path | None = None) -> dict[tuple[str, str, int], str]:
    path = Path(path) if path else DEFAULT_PATH
    if not path.exists():
        return {}
    return parse_explanations(path.read_text(encoding="utf-8"), str(path))
