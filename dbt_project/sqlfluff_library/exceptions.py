"""dbt's `exceptions` context object as sqlfluff's Jinja templater sees it (lint only).

sqlfluff's stand-in for `var()` returns no value, so a macro's own check of a var would
stop every file that uses it; in lint it renders nothing instead.
"""


def raise_compiler_error(message: str) -> str:
    return ""
