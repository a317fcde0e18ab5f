"""The Dagster definitions by domain: partitions, resources, schedules and the assets of
each stage (raw tables, dbt models, marts published to Iceberg).

Backfill policies, pools and the like are Dagster's beta and preview APIs, chosen on
purpose: their notices (13 on every command, in every Dagster process) say nothing a user
can act on, so they are silenced here, before any definition is built."""

import warnings

import dagster as dg

for _category in (dg.BetaWarning, dg.PreviewWarning):
    warnings.filterwarnings("ignore", category=_category)
