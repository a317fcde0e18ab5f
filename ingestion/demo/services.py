"""The service catalogue snapshot written for each fiscal year (CSV, no bad rows: every
other entity is checked against it)."""

from __future__ import annotations

import polars as pl

from contracts.entities import ENTITIES
from ingestion.demo.parameters import DemoPlan

# The canonical columns the contract expects (docs/raw_tables.md): one definition.
COLUMNS = ENTITIES["services"].columns


def services_frame(plan: DemoPlan) -> pl.DataFrame:
    rows = [
        {
            "service_id": s.service_id,
            "name": s.name,
            "priority_area": s.priority_area,
            "cofog_division": s.cofog_division,
            "agency": s.agency,
            "channels": ";".join(s.channels),
            "target_wait_minutes": float(s.target_wait_minutes),
            "target_days_to_complete": float(s.target_days_to_complete),
            "fee": float(s.fee),
        }
        for s in (sp.svc for sp in plan.services)
    ]
    return pl.DataFrame(rows, schema=COLUMNS)
