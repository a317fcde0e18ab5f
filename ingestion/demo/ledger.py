"""Ledger entries for one fiscal year: executed costs as planted (see costs.py), the
approved budget beside them, one planted fee revenue line (FEE_REVENUE_PLANT), and two
executed rows without an entry_id (quarantine bait).

`entries_per_line` scales the row count (a national ledger holds about a million
entries): each planted cost line is booked as that many entries whose amounts sum
exactly to it (equal parts, then paired +d/-d jitter), so every planted truth stays
exact. With 1 entry per line (any size up to 1.5) the file is the classic few hundred
rows a year.
"""

from __future__ import annotations

import math
import random
from fractions import Fraction as F

import polars as pl

from contracts.entities import ENTITIES
from contracts.models import FEE_REVENUE_CLASS
from ingestion.demo.costs import (
    CHANNELS,
    direct_cents,
    investment_cents,
    overhead_cents,
    shared_cents,
)
from ingestion.demo.parameters import CURRENCY, SHARED_CENTRES, DemoPlan
from ingestion.demo.random_streams import stream_key, with_uniforms

# The canonical columns the contract expects (docs/raw_tables.md): one definition.
COLUMNS = tuple(ENTITIES["ledger_entries"].columns)
# The demo file's columns: all of them but the optional COFOG division (a city ledger
# books by service and cost centre, not by function of government).
FILE_COLUMNS = tuple(c for c in COLUMNS if c != "cofog_division")
# fiscal_year .. phase, as the file orders them
_LINE_COLUMNS = FILE_COLUMNS[1:8]
_CENTRE_SUFFIX = {"online": "ONLINE", "phone": "PHONE", "in_person": "COUNTER"}
BAD_MISSING_ID = 2
# The planted counter fees: the fee of each in-person transaction of one service in one
# year, booked as one ledger fee revenue line (economic_class fee_revenue, executed).
# The marts must read it as that service's in-person fee_revenue and never as a cost.
FEE_REVENUE_PLANT = ("SVC-007", 2025, "in_person")


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


def fee_revenue_cents(sp, year: int) -> dict[str, int]:
    """{channel: cents} of the fee revenue planted in the ledger for a service and year
    (FEE_REVENUE_PLANT; empty elsewhere)."""
    sid, plant_year, channel = FEE_REVENUE_PLANT
    if sp.svc.service_id != sid or year != plant_year or year not in sp.years:
        return {}
    cents = round(sp.svc.fee * 100) * sp.years[year].volume(channel)
    return {channel: cents} if cents else {}


def _fee_lines(plan: DemoPlan, year: int) -> pl.DataFrame:
    """The executed fee revenue lines of the year, as _line_amounts rows."""
    rows = []
    for sp in plan.services:
        sid, prog = sp.svc.service_id, f"PRG-{sp.svc.priority_area.upper()}"
        for ch, cents in fee_revenue_cents(sp, year).items():
            rows.append((year, prog, sid, f"{sid}-{_CENTRE_SUFFIX[ch]}-FEES", FEE_REVENUE_CLASS, ch, "executed", cents))
    names = (*_LINE_COLUMNS, "cents")
    return pl.DataFrame(rows, schema=dict(zip(names, (pl.Int32, *[pl.String] * 6, pl.Int64))), orient="row")


def entries_per_line(size: float) -> int:
    """Ledger entries per planted cost line at a generator size (1 up to size 1.5)."""
    return max(1, math.floor(size + 0.5))


def _line_amounts(lines: list[tuple], year: int, rng: random.Random) -> pl.DataFrame:
    """One row per (phase, cost line) in file order: approved (jittered) then executed."""
    rows = []
    for phase in ("approved", "executed"):
        for prog, sid, centre, cls, ch, cents in lines:
            if phase == "approved":
                cents = round(cents * (1 + rng.uniform(-0.05, 0.10)))
            rows.append((year, prog, sid, centre, cls, ch, phase, cents))
    names = (*_LINE_COLUMNS, "cents")
    return pl.DataFrame(rows, schema=dict(zip(names, (pl.Int32, *[pl.String] * 6, pl.Int64))), orient="row")


def _split_entries(lines: pl.DataFrame, k: int, key: int) -> pl.DataFrame:
    """Each line as k entries summing exactly to its cents: equal parts (the remainder one
    cent at a time), entries 2i and 2i+1 moved by +d and -d (d <= half a part)."""
    if k == 1:
        return lines
    j = pl.col("part")
    base = pl.col("cents") // k
    df = lines.with_row_index("line").with_columns(part=pl.lit(list(range(k)), dtype=pl.List(pl.Int64))).explode("part")
    df = df.with_columns(pair=pl.col("line").cast(pl.Int64) * k + j // 2)
    df = with_uniforms(df, "pair", {"u": key})
    paired = (j // 2) * 2 + 1 < k  # the last entry of an odd k has no partner
    d = pl.when(paired).then((pl.col("u") * (base.abs() // 2)).floor().cast(pl.Int64)).otherwise(0)
    cents = base + (j < pl.col("cents") % k).cast(pl.Int64) + pl.when(j % 2 == 0).then(d).otherwise(-d)
    return df.with_columns(cents=cents).drop("line", "part", "pair", "u")


def _money_expr(cents: pl.Expr) -> pl.Expr:
    sign = pl.when(cents < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    return pl.concat_str(
        [sign, (cents.abs() // 100).cast(pl.String), pl.lit("."), (cents.abs() % 100).cast(pl.String).str.zfill(2)]
    )


def ledger_frame(plan: DemoPlan, year: int, size: float | None = None) -> tuple[pl.DataFrame, int, int]:
    """(rows in file order, good rows, bad rows). Bad rows have entry_id null.

    `size` sets the number of entries per cost line (default: the plan's size); the
    amounts are the plan's whatever it is."""
    k = entries_per_line(plan.size if size is None else size)
    rng = random.Random(f"{plan.seed}/ledger_entries/{year}")
    lines = pl.concat([_line_amounts(_cost_lines(plan, year), year, rng), _fee_lines(plan, year)])
    entries = _split_entries(lines, k, stream_key(plan.seed, "ledger_entries", year, "split"))
    good = entries.height
    entries = entries.select(
        pl.concat_str(
            [pl.lit(f"LE-{year}-"), pl.int_range(1, good + 1, dtype=pl.Int64).cast(pl.String).str.zfill(5)]
        ).alias("entry_id"),
        *_LINE_COLUMNS,
        _money_expr(pl.col("cents")).alias("amount"),
        pl.lit(CURRENCY).alias("currency"),
    )
    # the quarantine bait copies executed cost lines (never the planted fee line)
    executed = entries.filter((pl.col("phase") == "executed") & (pl.col("economic_class") != FEE_REVENUE_CLASS))
    for _ in range(BAD_MISSING_ID):
        copy = executed[rng.choice(range(executed.height))]
        cents = int(copy["amount"].item().replace(".", ""))
        copy = copy.with_columns(
            pl.lit(None, dtype=pl.String).alias("entry_id"),
            pl.lit(_money(round(cents * rng.uniform(0.5, 1.5)))).alias("amount"),
        )
        at = rng.randint(1, entries.height)
        entries = pl.concat([entries.head(at), copy, entries.slice(at)])
    schema = {c: pl.String for c in FILE_COLUMNS} | {"fiscal_year": pl.Int32}
    return entries.select(FILE_COLUMNS).cast(schema), good, BAD_MISSING_ID
