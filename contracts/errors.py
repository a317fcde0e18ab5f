"""Errors that reject a whole batch: nothing from it is loaded."""


class ContractError(ValueError):
    """A table-level contract failure (missing column, a column of the wrong type)."""
