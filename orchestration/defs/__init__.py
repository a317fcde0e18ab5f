"""The Dagster definitions by domain: partitions, resources, schedules and the assets of
each stage (raw tables, dbt models, marts published to Iceberg)."""
