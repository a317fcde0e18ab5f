"""The dbt project as Dagster assets: the project, its manifest and which selections may run."""
