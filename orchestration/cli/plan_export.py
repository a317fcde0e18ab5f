"""`civic plan --format csv|json|xlsx`: the budget plan in the forms the budget office works in.

Every column of marts.budget_plan is exported as the mart holds it (no rounding, no column
list of our own, so columns the marts gain are exported too). The workbook has one sheet per
scenario, each with the baseline's total cost beside every service row, and a totals sheet.
The errors of the last plan (marts.plan_vs_actual) follow in the table, the JSON and the
workbook when there are any; as CSV they are a file of their own (`civic plan --errors`).
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook

from orchestration.cli.plan import Plan

EXPORT_FORMATS = ("csv", "json", "xlsx")


def _selected(plan: Plan, scenarios: list[str] | None) -> Plan:
    if not scenarios:
        return plan
    known = list(dict.fromkeys(r["scenario"] for r in plan.rows))
    unknown = [s for s in scenarios if s not in known]
    if unknown:
        raise ValueError(
            f"unknown scenario(s) {', '.join(unknown)}; the plan has: {', '.join(known)} "
            "(scenarios are declared in plans/scenarios.yml)"
        )
    keep = set(scenarios)
    rows = [r for r in plan.rows if r["scenario"] in keep]
    # the last plan's errors are of its adopted scenario, whichever scenarios are shown
    return Plan(rows, {k: v for k, v in plan.totals.items() if k in keep}, plan.errors, plan.error_totals)


def _plain(value):
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _error_rows(plan: Plan) -> list[dict]:
    """The last plan's plan_vs_actual rows, then its totals row with service_id TOTAL."""
    total = [{"service_id": "TOTAL", **plan.error_totals}] if plan.error_totals else []
    return [{k: _plain(v) for k, v in r.items()} for r in [*plan.errors, *total]]


def plan_csv(plan: Plan, scenarios: list[str] | None = None, errors: bool = False) -> str:
    """Every row of marts.budget_plan of the selected scenarios, one CSV. `errors`: the
    errors of the last plan instead (marts.plan_vs_actual rows and a TOTAL row of
    marts.plan_vs_actual_totals, whose per-service columns are empty), a CSV of their own:
    one file is one table, for a spreadsheet or a CSV reader (`civic plan --errors`)."""
    plan = _selected(plan, scenarios)
    out = io.StringIO()
    if errors:
        if plan.errors:
            writer = csv.DictWriter(
                out, fieldnames=list(plan.errors[0]), lineterminator="\n", extrasaction="ignore", restval=""
            )
            writer.writeheader()
            writer.writerows(_error_rows(plan))
        return out.getvalue()
    writer = csv.DictWriter(out, fieldnames=list(plan.rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: _plain(v) for k, v in r.items()} for r in plan.rows)
    return out.getvalue()


def plan_json(plan: Plan, scenarios: list[str] | None = None) -> str:
    """{"rows": marts.budget_plan rows, "totals": marts.budget_plan_totals rows,
    "last_plan_errors": {"rows": marts.plan_vs_actual rows, "totals": its totals row}}
    (last_plan_errors is null when the last plan year had no plan)."""
    plan = _selected(plan, scenarios)
    errors = None
    if plan.errors:
        errors = {
            "rows": [{k: _plain(v) for k, v in r.items()} for r in plan.errors],
            "totals": {k: _plain(v) for k, v in plan.error_totals.items()} if plan.error_totals else None,
        }
    doc = {
        "plan_year": plan.rows[0]["plan_year"],
        "base_fiscal_year": plan.rows[0]["base_fiscal_year"],
        "rows": [{k: _plain(v) for k, v in r.items()} for r in plan.rows],
        "totals": [{k: _plain(v) for k, v in t.items()} for t in plan.totals.values()],
        "last_plan_errors": errors,
    }
    return json.dumps(doc, indent=1)


def _sheet_title(name: str, used: set[str]) -> str:
    """Excel sheet names: at most 31 characters, none of []:*?/\\, unique."""
    base = "".join("_" if c in "[]:*?/\\" else c for c in name)[:31] or "scenario"
    title, n = base, 1
    while title.lower() in used:
        n += 1
        title = f"{base[: 31 - len(str(n)) - 1]}~{n}"
    used.add(title.lower())
    return title


def plan_workbook(plan: Plan, path: Path, scenarios: list[str] | None = None) -> list[str]:
    """Write the workbook; returns its sheet names. Each scenario's sheet has the baseline's
    total cost of the same service beside its own (columns baseline_total_cost, savings)."""
    plan = _selected(plan, scenarios)
    wb = Workbook()
    wb.remove(wb.active)
    used: set[str] = set()
    order = list(dict.fromkeys(r["scenario"] for r in plan.rows))
    columns = list(plan.rows[0])
    for name in order:
        ws = wb.create_sheet(_sheet_title(name, used))
        ws.append(columns)
        for r in plan.rows:
            if r["scenario"] == name:
                ws.append([_plain(r[c]) for c in columns])
        ws.freeze_panes = "A2"
    totals = wb.create_sheet(_sheet_title("totals", used))
    tcols = list(next(iter(plan.totals.values())))
    totals.append(tcols)
    for name in order:
        totals.append([_plain(plan.totals[name][c]) for c in tcols])
    if plan.errors:
        sheet = wb.create_sheet(_sheet_title(f"errors FY{plan.errors[0]['fiscal_year']}", used))
        ecols = list(plan.errors[0])
        sheet.append(ecols)
        for r in _error_rows(plan):
            sheet.append([r.get(c) for c in ecols])
        sheet.freeze_panes = "A2"
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return wb.sheetnames
