"""dbt-duckdb source plugin for the lake's reference tables (Iceberg namespace `reference`).

The same reader as :mod:`lake.dbt_source` (pyiceberg plans the files, DuckDB scans a lazy
Arrow dataset, nothing is copied), for small tables that are replaced as a whole and have
no fiscal year: no fiscal-year filter is pushed down, whatever ``--vars`` say. A reference
table that was never landed (a lake no refresh has written to yet) reads as empty with its
declared schema, so a hand-run ``dbt build`` still builds; ``reference.plan_scenarios`` is
landed by the Dagster asset reference/plan_scenarios (lake.plan_scenarios), the data-use
register and lineage by reference/data_use (lake.data_use).

Configure it in ``profiles.yml`` next to ``iceberg_raw``::

    plugins:
      - module: lake.dbt_reference
        alias: iceberg_reference
"""

from __future__ import annotations

import logging
from typing import Any

from pyiceberg.exceptions import NoSuchNamespaceError, NoSuchTableError

from lake import dbt_source
from lake.data_use import LINEAGE_TABLE, REGISTER_TABLE, lineage_schema, register_schema
from lake.plan_scenarios import PLAN_SCENARIOS_TABLE, REFERENCE_NAMESPACE, scenarios_schema

log = logging.getLogger(__name__)

# the reference tables dbt reads, with the schema each reads as while it does not exist yet
EMPTY_SCHEMAS = {
    PLAN_SCENARIOS_TABLE: scenarios_schema,
    REGISTER_TABLE: register_schema,
    LINEAGE_TABLE: lineage_schema,
}


class Plugin(dbt_source.Plugin):
    """Source plugin over whole Iceberg reference tables (namespace ``reference``)."""

    def initialize(self, plugin_config: dict[str, Any]):
        super().initialize({"namespaces": [REFERENCE_NAMESPACE], **dict(plugin_config or {})})

    def _dataset(self, table_name: str, fiscal_years: list[int] | None):
        settings, catalog = self._open()
        try:
            table = catalog.load_table(table_name)
        except (NoSuchTableError, NoSuchNamespaceError):
            if table_name not in EMPTY_SCHEMAS:
                raise
            log.info("iceberg_reference: %s does not exist yet; reading it as empty", table_name)
            return EMPTY_SCHEMAS[table_name]().empty_table()
        return dbt_source.iceberg_dataset(table, settings, None)  # whole table: no year filter

    def _plan_cursor_datasets(self) -> dict[str, Any]:
        if self._cursor_datasets is None:
            database = getattr(self.creds, "database", None) if self.creds else None
            _, catalog = self._open()
            try:
                names = {".".join(i) for i in catalog.list_tables(REFERENCE_NAMESPACE)}
            except NoSuchNamespaceError:
                names = set()
            datasets: dict[str, Any] = {}
            for name in sorted(names | set(EMPTY_SCHEMAS)):
                relation = f"{database}.{name}" if database else name
                datasets[relation.replace(".", "_") + "_df"] = self._dataset(name, None)
            self._cursor_datasets = datasets
        return self._cursor_datasets


__all__ = ["Plugin"]
