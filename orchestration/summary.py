"""The per-service summary `civic demo` ends with."""

from __future__ import annotations

from pathlib import Path

from lake.marts_query import run_query
from orchestration.display import render

SUMMARY_SQL = """
select service_id, service_name, transactions,
       round(cost_per_transaction, 2) as cost_per_transaction,
       round(digital_take_up * 100, 1) as digital_take_up_pct,
       round(completion_rate * 100, 1) as completion_rate_pct,
       round(satisfaction_top2_pct * 100, 1) as satisfied_pct,
       round(mean_wait_minutes, 1) as mean_wait_minutes
from marts.service_channel_kpis
where fiscal_year = {year} and channel = 'all'
order by service_id
"""


def print_summary(duckdb_path: Path, fiscal_year: int) -> None:
    result = run_query(duckdb_path, SUMMARY_SQL.format(year=int(fiscal_year)))
    print(f"\nFY{fiscal_year}: per-service summary (marts.service_channel_kpis, channel = all)")
    print(render(result.columns, result.rows))
