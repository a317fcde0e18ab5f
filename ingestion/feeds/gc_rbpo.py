"""Departmental Plans and Results Reports (`rbpo.csv`) -> `ledger_entries` records.

One rbpo row is one programme of one organisation in one report year (`fy_ef`): the
planned spending for that year and the two next (planned_spending_1/2/3), the actual
spending, and FTEs. Each row gives 1..4 ledger entries:

- `approved`, fiscal year fy: planned_spending_1 (FTEs planned_ftes_1);
- `executed`, fiscal year fy: actual_spending (FTEs actual_ftes);
- `proposed`, fiscal year fy+1: planned_spending_2 (FTEs planned_ftes_2);
- `proposed`, fiscal year fy+2: planned_spending_3, only when no report of year fy+1
  plans that year for the programme: the same year is planned by up to two reports,
  and the ledger keeps the latest forecast, so no year is counted twice. The earlier
  forecast stays on its row as the source column planned_spending_3.

A blank figure gives no entry. A row with no figure at all gives one `approved` entry
without amount, quarantined with that reason.
"""

from __future__ import annotations

from ingestion.feeds.base import computed_columns
from ingestion.feeds.fiscal_labels import fiscal_year_end

LEDGER_COLUMNS = computed_columns("ledger_entries")
# (phase, years after the report year, amount column, FTE column)
FIGURES = (
    ("approved", 0, "planned_spending_1", "planned_ftes_1"),
    ("executed", 0, "actual_spending", "actual_ftes"),
    ("proposed", 1, "planned_spending_2", "planned_ftes_2"),
    ("proposed", 2, "planned_spending_3", "planned_ftes_3"),
)
# Internal Services programme codes (ISS00..ISS0Z) are the same in every department
INTERNAL_SERVICES_PREFIX = "ISS"


def _key(row: dict) -> tuple[str, str]:
    return (row.get("organization_id") or "").strip(), (row.get("program_id") or "").strip()


def _blank(value: str | None) -> bool:
    return value is None or not value.strip()


def planned_next_year(rows: list[dict]) -> set[tuple[int, str, str]]:
    """(fiscal year, organisation, programme) planned one year ahead by some report."""
    planned = set()
    for row in rows:
        year = fiscal_year_end(row.get("fy_ef"))
        if year is not None and not _blank(row.get("planned_spending_2")):
            planned.add((year + 1, *_key(row)))
    return planned


def ledger_records(row: dict, planned_ahead: set[tuple[int, str, str]]) -> list[dict]:
    """The 1..4 entries of one rbpo row (one without amount if the row has no figure)."""
    report_year = fiscal_year_end(row.get("fy_ef"))
    org, programme = _key(row)
    records = []
    for phase, ahead, amount_col, fte_col in FIGURES:
        if _blank(row.get(amount_col)):
            continue
        year = None if report_year is None else report_year + ahead
        if ahead == 2 and (year, org, programme) in planned_ahead:
            continue  # superseded by the next report's one-year-ahead plan
        records.append(_entry(row, report_year, ahead, phase, amount_col, fte_col))
    if not records:
        records.append(
            {
                **_entry(row, report_year, 0, "approved", None, None),
                "_reason": "no planned or actual spending in this rbpo row (all four spending cells are blank)",
            }
        )
    return records


def _entry(
    row: dict, report_year: int | None, ahead: int, phase: str, amount_col: str | None, fte_col: str | None
) -> dict:
    org, programme = _key(row)
    year = None if report_year is None else report_year + ahead
    label = year if year is not None else (row.get("fy_ef") or "").strip()
    ftes = (row.get(fte_col) or "").strip() if fte_col else ""
    return {
        **row,
        "_entry_id": f"{label}-{org}-{programme}-{phase}",
        "_fiscal_year": None if year is None else str(year),
        "_programme_id": programme or None,
        "_service_id": None,
        "_cost_centre": org or None,
        "_economic_class": None,
        "_channel": None,
        "_phase": phase,
        "_amount": row.get(amount_col).strip() if amount_col else None,
        "_currency": "CAD",
        "report_fiscal_year": None if report_year is None else str(report_year),
        "years_ahead": str(ahead),
        "amount_column": amount_col,
        "ftes": ftes or None,
        "programme_scope": "internal_services" if programme.startswith(INTERNAL_SERVICES_PREFIX) else "programme",
        "_reason": None,
    }
