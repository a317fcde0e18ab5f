"""The budget plan scenarios as a Dagster asset: plans/scenarios.yml validated and landed in the lake."""
