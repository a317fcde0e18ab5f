"""The shrink guard: a load must not silently replace a year's rows with far fewer.

An empty or header-only file, a truncated export or a feed that lost its older years
would otherwise replace a fiscal year's raw partition with next to nothing, and every
mart of that year would report a cost of 0 with every check green. Before a load
commits anything, each (table, fiscal year, source) it replaces is compared with the
previous load of the ledger (`lake.load_ledger`): fewer loaded rows than
`min_share` of the previous load's refuse the whole load, nothing changed, unless the
user confirms (`--allow-shrink`, CIVIC_ALLOW_SHRINK=1).
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
from pyiceberg.catalog import Catalog

from contracts.staged import StagedLoad
from lake.load_ledger import read_loads


class ShrinkRefused(ValueError):
    """A load that would replace a year's rows with far fewer: nothing was committed."""


def previous_loaded(ledger: pa.Table, table_name: str, fiscal_year: int | None, source: str) -> int | None:
    """Rows the newest earlier load of (table, year, source) loaded; None: never loaded."""
    if fiscal_year is None:
        return None
    mask = pc.and_(
        pc.and_(pc.equal(ledger["table_name"], table_name), pc.equal(ledger["fiscal_year"], fiscal_year)),
        pc.equal(ledger["source"], source),
    )
    rows = ledger.filter(mask).sort_by([("finished_at", "descending")])
    return int(rows["loaded"][0].as_py()) if rows.num_rows else None


def shrink_problem(loaded: int, previous: int | None, min_share: float) -> str | None:
    """Why a load of `loaded` rows may not replace `previous` ones (None: it may)."""
    if not previous or min_share <= 0 or loaded >= min_share * previous:
        return None
    return f"{loaded:,} rows would replace the {previous:,} of the previous load (below {min_share:.0%} of them)"


def check_shrink(catalog: Catalog, parts: list[StagedLoad], min_share: float | None) -> None:
    """Refuse (ShrinkRefused) parts that would shrink their year; `min_share` None: allowed."""
    if min_share is None or min_share <= 0 or not parts:
        return
    # only the entries of these tables, years and sources: not the whole growing ledger
    ledger = read_loads(
        catalog,
        table_names={f"raw.{p.entity}" for p in parts},
        fiscal_years={p.fiscal_year for p in parts if p.fiscal_year is not None},
        sources={p.source for p in parts},
    )
    problems = []
    for part in parts:
        table_name = f"raw.{part.entity}"
        previous = previous_loaded(ledger, table_name, part.fiscal_year, part.source)
        if why := shrink_problem(part.loaded, previous, min_share):
            problems.append(f"{table_name} FY{part.fiscal_year} ({part.source}): {why}")
    if problems:
        raise ShrinkRefused(
            f"{'; '.join(problems)}: an empty, header-only or truncated file? Nothing was changed; "
            "if the year really has so few rows now, run again with --allow-shrink (CIVIC_SHRINK_GUARD sets the share)"
        )
