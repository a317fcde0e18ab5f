"""Ledger entries for one fiscal year: executed costs as planted (see costs.py), the
approved budget beside them, and two executed rows without an entry_id (quarantine bait).

Small (a few hundred rows a year), so it is built as plain Python rows.
"""

from __future__ import annotations

import random
from fractions import Fraction as F

import polars as pl

from contracts.entities import ENTITIES
from ingestion.demo.costs import (
    CHANNELS,
    direct_cents,
    investment_cents,
    overhead_cents,
    shared_cents,
)
from ingestion.demo.parameters import CURRENCY, SHARED_CENTRES, DemoPlan

# The canonical columns the contract expects (docs/raw_tables.md): one definition.
COLUMNS = tuple(ENTITIES["ledger_entries"].columns)
_CENTRE_SUFFIX = {"online": "ONLINE", "phone": "PHONE", "in_person": "COUNTER"}
BAD_MISSING_ID = 2


def _money(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100}.{cents % 100:02d}"


def _split(cents: int, share: F, first: str, second: str) -> list[tuple[str, int]]:
    a = round(cents * share)
    return [(first, a), (second, cents - a)]


def _cost_lines(plan: DemoPlan, year: int) -> list[dict]:
    """Executed cost lines: (programme, service, centre, class, channel, cents)."""
    lines = []
    for sp in plan.services:
        sid, prog = sp.svc.service_id, f"PRG-{sp.svc.priority_area.upper()}"
        for ch in CHANNELS:
            cents = direct_cents(sp, year, ch)
            if cents:
                for cls, amount in _split(cents, sp.personnel_share, "personnel", "operating"):
                    lines.append((prog, sid, f"{sid}-{_CENTRE_SUFFIX[ch]}", cls, ch, amount))
        invest = investment_cents(sp, year)
        if invest:
            lines.append((prog, sid, f"{sid}-WAIT-PROGRAMME", "capital", "in_person", invest))
        for cls, amount in _split(overhead_cents(sp, year), sp.personnel_share, "personnel", "operating"):
            lines.append((prog, sid, f"{sid}-ADMIN", cls, None, amount))
    for ch, centre in SHARED_CENTRES.items():
        for cls, amount in _split(shared_cents(plan, year, ch), F(3, 5), "personnel", "operating"):
            lines.append(("PRG-CORPORATE", None, centre, cls, ch, amount))
    return lines


def ledger_frame(plan: DemoPlan, year: int) -> tuple[pl.DataFrame, int, int]:
    """(rows in file order, good rows, bad rows). Bad rows have entry_id null."""
    rng = random.Random(f"{plan.seed}/ledger_entries/{year}")
    rows = []
    lines = _cost_lines(plan, year)
    for phase in ("approved", "executed"):
        for prog, sid, centre, cls, ch, cents in lines:
            if phase == "approved":
                cents = round(cents * (1 + rng.uniform(-0.05, 0.10)))
            rows.append([None, year, prog, sid, centre, cls, ch, phase, _money(cents), CURRENCY])
    for n, row in enumerate(rows, start=1):
        row[0] = f"LE-{year}-{n:05d}"
    good = len(rows)
    executed = [r for r in rows if r[7] == "executed"]
    for _ in range(BAD_MISSING_ID):
        copy = list(rng.choice(executed))
        copy[0] = None
        copy[8] = _money(round(int(copy[8].replace(".", "")) * rng.uniform(0.5, 1.5)))
        rows.insert(rng.randint(1, len(rows)), copy)
    schema = {c: pl.String for c in COLUMNS} | {"fiscal_year": pl.Int32}
    return pl.DataFrame(rows, schema=schema, orient="row"), good, BAD_MISSING_ID
