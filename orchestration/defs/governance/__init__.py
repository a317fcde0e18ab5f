"""The data-use register as Dagster assets: validated, and landed with the marts' uses of it."""
