"""The public scorecard site as a Dagster asset, downstream of the marts."""
