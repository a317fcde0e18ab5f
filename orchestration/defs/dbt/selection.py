"""Which dbt asset selections can run: intermediate tables must be built with their readers.

The intermediate models are tables holding only the fiscal years of the build that made
them (dbt_project.yml). A model selected without one of its intermediate parents would
read a table built for other years, or before the raw data it summarises was reloaded,
and be wrong without a sign of it. A refresh selects every model, and a raw asset whose
blocking check fails drops its whole downstream, intermediate parents and their readers
alike; only a hand-picked subset in the UI can leave a parent out, and it is refused.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Set

import dagster as dg

INTERMEDIATE = "intermediate"


def unbuilt_intermediate_parents(
    selected: Set[dg.AssetKey], deps: Mapping[dg.AssetKey, Iterable[dg.AssetKey]]
) -> set[dg.AssetKey]:
    """Intermediate models that a selected model reads but the selection leaves out."""
    return {
        parent
        for key in selected
        for parent in deps.get(key, ())
        if parent.path[0] == INTERMEDIATE and parent not in selected
    }


def refusal(missing: set[dg.AssetKey]) -> str:
    names = ", ".join(sorted(k.to_user_string() for k in missing))
    return (
        f"this selection leaves out intermediate model(s) {names}, which the selected models read; "
        "intermediate tables hold only the years of the build that made them, so select them too "
        "(or materialize the whole dbt group)"
    )
