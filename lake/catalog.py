"""The Iceberg SQL catalog (SQLite by default, PostgreSQL in production) and its namespaces."""

from __future__ import annotations

from pathlib import Path

from pyiceberg.catalog.sql import SqlCatalog

from lake.settings import Settings, secure_home

NAMESPACES = ("raw", "quarantine", "marts")


def open_catalog(settings: Settings) -> SqlCatalog:
    """Open the catalog, creating its local directories (owner-only) and namespaces on first use."""
    secure_home(settings.home)
    if settings.warehouse.startswith("file://"):
        Path(settings.warehouse.removeprefix("file://")).mkdir(parents=True, exist_ok=True)
    catalog = SqlCatalog(settings.catalog_name, **settings.iceberg_properties())
    existing = {ns[0] for ns in catalog.list_namespaces()}
    for ns in NAMESPACES:
        if ns not in existing:
            catalog.create_namespace_if_not_exists(ns)
    return catalog
