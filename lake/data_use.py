"""Which marts use which personal fields, derived from the dbt lineage.

The dbt project's own graph (`ref()` and `source('raw', ...)` in its models) gives, for
each mart, the staging models it descends from and so the raw datasets it reads. A
personal field of such a dataset (from the data-use register) is used by the mart when
its staging model passes the column on and the mart, or a model between the staging
model and the mart, names it. A mart that reads a dataset but none of its personal
columns (the scorecard reads survey responses, not who answered) is not listed.
Staging models keep the raw column names; a rename would hide a use from this reading.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from contracts.register import DatasetUse

_REF = re.compile(r"""ref\(\s*['"]([A-Za-z0-9_]+)['"]\s*\)""")
_SOURCE = re.compile(r"""source\(\s*['"]raw['"]\s*,\s*['"]([A-Za-z0-9_]+)['"]\s*\)""")
_COMMENT = re.compile(r"--[^\n]*|/\*.*?\*/", re.S)


@dataclass(frozen=True)
class DataUse:
    mart: str
    dataset: str
    personal_field: str
    protection: str
    purpose: str
    legal_basis: str
    readers: str


def _models(models_dir: Path) -> dict[str, str]:
    """model name -> its SQL without comments."""
    return {p.stem: _COMMENT.sub(" ", p.read_text(encoding="utf-8")) for p in sorted(models_dir.rglob("*.sql"))}


def _names(sql: str, column: str) -> bool:
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(column)}(?![A-Za-z0-9_])", sql) is not None


def _walk(
    model: str, below: frozenset[str], refs: dict[str, set[str]], reads: dict[str, set[str]], paths: dict[str, set[str]]
) -> None:
    """Collect, per staging model above `model`, the models from it down to the mart."""
    below = below | {model}
    if reads[model]:
        paths.setdefault(model, set()).update(below - {model})
    for parent in refs[model]:
        _walk(parent, below, refs, reads, paths)


def derive_data_use(models_dir: Path, register: dict[str, DatasetUse]) -> list[DataUse]:
    """(mart, dataset, personal field) for every use; marts are the models under `marts/`."""
    sql = _models(models_dir)
    refs = {m: set(_REF.findall(text)) & set(sql) for m, text in sql.items()}
    reads = {m: set(_SOURCE.findall(text)) for m, text in sql.items()}
    marts = sorted(p.stem for p in (models_dir / "marts").rglob("*.sql"))
    out: list[DataUse] = []
    for mart in marts:
        # every model between a staging model and the mart (the mart included), by the
        # staging model it descends from
        paths: dict[str, set[str]] = {}
        _walk(mart, frozenset(), refs, reads, paths)
        for staging, users in sorted(paths.items()):
            for dataset in sorted(reads[staging]):
                use = register.get(dataset)
                if use is None:
                    continue
                for column, protection in use.personal_fields.items():
                    if _names(sql[staging], column) and any(_names(sql[m], column) for m in users):
                        out.append(
                            DataUse(
                                mart,
                                dataset,
                                column,
                                protection,
                                use.purpose,
                                use.legal_basis,
                                ", ".join(use.readers),
                            )
                        )
    return sorted(set(out), key=lambda u: (u.mart, u.dataset, u.personal_field))
