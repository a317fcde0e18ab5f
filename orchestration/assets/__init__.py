"""Dagster assets: raw tables, dbt models, marts published to Iceberg."""
