"""dbt-duckdb source plugin: read raw Iceberg tables without DuckDB extensions.

DuckDB's ``iceberg`` and ``httpfs`` extensions are downloaded at run time, which fails
offline. This plugin lets pyiceberg do the Iceberg part (catalog, snapshot, manifest
pruning with the fiscal-year filter pushed down) and hands DuckDB a lazy
``pyarrow.dataset.Dataset`` over the planned Parquet data files. DuckDB scans that
dataset in batches with projection and filter pushdown, so a raw table is never loaded
into memory as a whole and nothing is copied into the DuckDB file.

Configure it in ``profiles.yml``::

    plugins:
      - module: lake.dbt_source
        alias: iceberg_raw

and on each source (``models/lake_tables.yml``)::

    config:
      meta:
        plugin: iceberg_raw
        iceberg_table: raw.queue_events
        materialization: view       # register the dataset, copy nothing
        fiscal_years: "{{ var('fiscal_years', none) }}"

Fiscal years: dbt renders ``{{ var(...) }}`` inside source ``meta`` at parse time (dbt
re-parses when ``--vars`` change), so ``fiscal_years`` arrives here already rendered:
as a list of ints, or as its string form (``"[2024, 2025]"``, ``"2024"``, ``"None"``,
``""``) depending on how dbt's renderer typed it. :func:`parse_fiscal_years` accepts all
of these. As a fallback (a source without the meta key) the plugin reads the
``fiscal_years`` var given on the dbt command line (``--vars``) from dbt's global flags;
if the two ever disagree (a manifest parsed with other vars) the command line wins.
``None`` / absent / empty means: all fiscal years.

Source views are DuckDB views over datasets registered on dbt's connection, so they are
readable only inside a dbt command; the plugin registers the datasets of every table in
the ``raw`` namespace on each new dbt cursor (see :class:`Plugin`) so any dbt command can
read them, not only one that resolved the source itself.

Catalog and warehouse come from :func:`lake.settings.load_settings` (``CIVIC_HOME``,
``CIVIC_CATALOG_URI``, ``CIVIC_WAREHOUSE``, ``AWS_*``), the same as the rest of the lake.
"""

from __future__ import annotations

import ast
import logging
import threading
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlparse

import pyarrow as pa
import pyarrow.dataset as pds
import pyarrow.fs as pafs
from dbt.adapters.duckdb.plugins import BasePlugin
from dbt.adapters.duckdb.utils import SourceConfig
from pyiceberg.catalog import Catalog
from pyiceberg.exceptions import NoSuchTableError
from pyiceberg.expressions import AlwaysTrue, BooleanExpression, In, Reference
from pyiceberg.expressions.literals import literal
from pyiceberg.manifest import FileFormat
from pyiceberg.table import Table

from contracts.entities import ENTITIES
from lake.catalog import open_catalog
from lake.raw_schema import RAW_NAMESPACE, empty_raw_table
from lake.settings import Settings, load_settings

log = logging.getLogger(__name__)

FISCAL_YEAR_COLUMN = "fiscal_year"
FISCAL_YEARS_VAR = "fiscal_years"


def parse_fiscal_years(value: Any) -> list[int] | None:
    """Normalise a rendered ``fiscal_years`` value to a sorted list of ints, or None (= all).

    Accepts None, an int, a list/tuple of ints or numeric strings, or the string form dbt
    produces when rendering a var into YAML (``"[2024, 2025]"``, ``"2024"``, ``"None"``,
    ``"none"``, ``"null"``, ``""``) and comma-separated strings (``"2024,2025"``).
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"fiscal_years must be a list of years, got {value!r}")
    if isinstance(value, int):
        return [value]
    if isinstance(value, str):
        text = value.strip()
        if text.lower() in ("", "none", "null", "~", "[]"):
            return None
        try:
            parsed = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            parsed = [part for part in text.strip("[]()").split(",") if part.strip()]
        if isinstance(parsed, str):
            parsed = [parsed]
        return parse_fiscal_years(parsed)
    if isinstance(value, Iterable):
        years = sorted({int(str(item).strip()) for item in value})
        return years or None
    raise ValueError(f"fiscal_years must be a list of years, got {value!r}")


_NOT_GIVEN = object()


def fiscal_years_from_cli_vars() -> Any:
    """The ``fiscal_years`` var given on the dbt command line (``--vars``), parsed.

    Returns ``_NOT_GIVEN`` when the var was not given on the command line (or outside a
    dbt invocation).
    """
    try:
        from dbt.flags import get_flags

        cli_vars = getattr(get_flags(), "VARS", None) or {}
    except Exception:  # pragma: no cover - flags not set outside a dbt invocation
        return _NOT_GIVEN
    if not isinstance(cli_vars, dict) or FISCAL_YEARS_VAR not in cli_vars:
        return _NOT_GIVEN
    return parse_fiscal_years(cli_vars[FISCAL_YEARS_VAR])


def resolve_fiscal_years(source_config: SourceConfig) -> list[int] | None:
    """Fiscal years to read for a source: its rendered meta, checked against ``--vars``.

    The meta value is rendered from ``var('fiscal_years')`` when dbt parses the project
    (dbt re-parses when vars change). The command-line value wins if the two ever
    disagree (e.g. a manifest parsed with other vars), and is the fallback when the
    source has no ``fiscal_years`` meta key.
    """
    cli = fiscal_years_from_cli_vars()
    if FISCAL_YEARS_VAR not in source_config:
        return None if cli is _NOT_GIVEN else cli
    meta = parse_fiscal_years(source_config.get(FISCAL_YEARS_VAR))
    if cli is not _NOT_GIVEN and cli != meta:
        log.warning(
            "iceberg_raw: source meta fiscal_years=%s differs from --vars fiscal_years=%s; using --vars",
            meta,
            cli,
        )
        return cli
    return meta


def arrow_filesystem(settings: Settings, warehouse_location: str) -> pafs.FileSystem:
    """A pyarrow filesystem for the warehouse: local for file://, S3 (path-style) for s3://."""
    scheme = urlparse(warehouse_location).scheme
    if scheme in ("", "file"):
        return pafs.LocalFileSystem()
    if scheme in ("s3", "s3a", "s3n"):
        options: dict[str, Any] = {"region": settings.s3_region}
        if settings.s3_access_key_id:
            options["access_key"] = settings.s3_access_key_id
        if settings.s3_secret_access_key:
            options["secret_key"] = settings.s3_secret_access_key
        if settings.s3_endpoint:
            endpoint = urlparse(settings.s3_endpoint)
            if endpoint.scheme:
                options["endpoint_override"] = endpoint.netloc
                options["scheme"] = endpoint.scheme
            else:
                options["endpoint_override"] = settings.s3_endpoint
            options["force_virtual_addressing"] = False  # path-style for non-AWS endpoints
        from lake.s3_retry import StandardRetries

        return pafs.S3FileSystem(retry_strategy=StandardRetries(), **options)
    raise ValueError(f"unsupported warehouse location {warehouse_location!r}")


def _fs_path(location: str) -> str:
    """A data file location as a path for the pyarrow filesystem (no scheme)."""
    parsed = urlparse(location)
    if parsed.scheme in ("", "file"):
        return parsed.path if parsed.scheme else location
    return f"{parsed.netloc}{parsed.path}"


def iceberg_dataset(
    table: Table,
    settings: Settings,
    fiscal_years: list[int] | None,
) -> pds.Dataset | pa.Table:
    """A lazy Arrow dataset over the table's current data files for the given years.

    Files are planned by pyiceberg with ``fiscal_year IN (...)`` pushed down (partition
    and metrics pruning). The dataset uses the table's current Arrow schema, so files
    written before a column was added read that column as null. Tables with row-level
    delete files (merge-on-read) cannot be expressed as plain Parquet files; for those the
    scan is materialised by pyiceberg instead (logged as a warning).
    """
    row_filter: BooleanExpression = AlwaysTrue()
    if fiscal_years:
        row_filter = In(term=Reference(FISCAL_YEAR_COLUMN), values={literal(y) for y in fiscal_years})
    scan = table.scan(row_filter=row_filter)
    schema = table.schema().as_arrow()
    tasks = list(scan.plan_files())
    if any(task.delete_files for task in tasks):
        log.warning(
            "%s has row-level delete files; reading it through pyiceberg into memory",
            table.name(),
        )
        return scan.to_arrow()
    files = [task.file for task in tasks]
    if not files:
        return schema.empty_table()
    unsupported = {str(f.file_format) for f in files if f.file_format != FileFormat.PARQUET}
    if unsupported:
        raise ValueError(f"{table.name()}: only Parquet data files are supported, got {unsupported}")
    filesystem = arrow_filesystem(settings, table.metadata.location)
    return pds.dataset(
        [_fs_path(f.file_path) for f in files],
        schema=schema,
        format="parquet",
        filesystem=filesystem,
    )


class Plugin(BasePlugin):
    """Source plugin: ``load()`` returns a pyarrow dataset over an Iceberg table's files.

    Besides ``load()`` (called by dbt-duckdb whenever a model or hook resolves a source),
    the plugin registers the datasets of every table of the Iceberg namespaces in its
    ``namespaces`` config (default ``["raw"]``) on each new DuckDB cursor, under the names
    dbt-duckdb's source views read (``<database>_<schema>_<table>_df``). Source views are
    plain DuckDB views over those registered names; this makes them readable in any dbt
    command (``dbt show``, ``dbt test``, ``dbt build -s marts``), not only in a process
    that happened to resolve the source. It assumes each source's identifier and schema
    equal its Iceberg table name and namespace (true for models/lake_tables.yml).
    """

    def initialize(self, plugin_config: dict[str, Any]):
        self._config = dict(plugin_config or {})
        self._namespaces = list(self._config.get("namespaces", ["raw"]))
        self._settings: Settings | None = None
        self._catalog: Catalog | None = None
        self._cursor_datasets: dict[str, Any] | None = None
        self._lock = threading.Lock()

    def _open(self) -> tuple[Settings, Catalog]:
        if self._settings is None or self._catalog is None:
            self._settings = load_settings()
            self._catalog = open_catalog(self._settings)
        return self._settings, self._catalog

    def _dataset(self, table_name: str, fiscal_years: list[int] | None):
        settings, catalog = self._open()
        try:
            table = catalog.load_table(table_name)
        except NoSuchTableError:
            empty = empty_raw_table(table_name)
            if empty is None:
                raise
            # no source has delivered this entity yet: its models build, empty
            log.info("iceberg_raw: %s does not exist yet; reading it as empty", table_name)
            return empty
        log.info("iceberg_raw: %s fiscal_years=%s", table_name, fiscal_years or "all")
        return iceberg_dataset(table, settings, fiscal_years)

    def load(self, source_config: SourceConfig):
        template = source_config.get("iceberg_table", "{schema}.{identifier}")
        table_name = template.format(**source_config.as_dict())
        return self._dataset(table_name, resolve_fiscal_years(source_config))

    def _datasets_for_cursors(self) -> dict[str, Any]:
        """Datasets of every table in the configured namespaces, planned once per process.

        The years are those of ``--vars`` (all years without it); datasets dbt-duckdb
        registers itself when it resolves a source are registered after these and win.
        """
        with self._lock:
            return self._plan_cursor_datasets()

    def _plan_cursor_datasets(self) -> dict[str, Any]:
        if self._cursor_datasets is None:
            datasets: dict[str, Any] = {}
            database = getattr(self.creds, "database", None) if self.creds else None
            cli = fiscal_years_from_cli_vars()
            years = None if cli is _NOT_GIVEN else cli
            _, catalog = self._open()
            for namespace in self._namespaces:
                names = {".".join(identifier) for identifier in catalog.list_tables(namespace)}
                if namespace == RAW_NAMESPACE:
                    names |= {f"{RAW_NAMESPACE}.{entity}" for entity in ENTITIES}
                for name in sorted(names):
                    relation = f"{database}.{name}" if database else name
                    df_name = relation.replace(".", "_") + "_df"
                    datasets[df_name] = self._dataset(name, years)
            self._cursor_datasets = datasets
        return self._cursor_datasets

    def configure_cursor(self, cursor):
        try:
            datasets = self._datasets_for_cursors()
        except Exception as exc:  # no lake yet (e.g. dbt debug): sources load on demand
            log.warning("iceberg_raw: raw tables not registered on the cursor: %s", exc)
            self._cursor_datasets = {}
            return
        for df_name, dataset in datasets.items():
            cursor.register(df_name, dataset)

    def default_materialization(self):
        return "view"
