"""Which marts use which personal fields, derived from the dbt lineage.

The dbt project's own graph (`ref()` and `source('raw', ...)` in its models) gives, for
each mart, the staging models it descends from and so the raw datasets it reads. A
personal field of such a dataset (from the data-use register) is used by the mart when
its staging model passes the column on and the mart, or a model between the staging
model and the mart, names it. A mart that reads a dataset but none of its personal
columns (the scorecard reads survey responses, not who answered) is not listed.
Staging models keep the raw column names; a rename would hide a use from this reading.

The refresh lands the register and the derived lineage as two reference tables
(`reference.processing_register`, `reference.data_use_lineage`, replaced as a whole by the
Dagster asset reference/data_use) that the dbt mart `marts.data_use` joins.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from contracts.register import DatasetUse

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog

REGISTER_TABLE = "reference.processing_register"
LINEAGE_TABLE = "reference.data_use_lineage"
DBT_MODELS = Path(__file__).resolve().parents[1] / "dbt_project" / "models"

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
    retention_years: int


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
                                use.retention_years,
                            )
                        )
    return sorted(set(out), key=lambda u: (u.mart, u.dataset, u.personal_field))


def register_schema() -> pa.Schema:
    return pa.schema(
        [
            ("dataset", pa.string()),
            ("personal_field", pa.string()),
            ("protection", pa.string()),
            ("purpose", pa.string()),
            ("legal_basis", pa.string()),
            ("retention_years", pa.int32()),
            ("readers", pa.string()),
        ]
    )


def lineage_schema() -> pa.Schema:
    return pa.schema([("mart", pa.string()), ("dataset", pa.string()), ("personal_field", pa.string())])


def register_rows(register: dict[str, DatasetUse]) -> pa.Table:
    """The register as reference rows: one per dataset and personal field."""
    rows = [
        {
            "dataset": use.dataset,
            "personal_field": column,
            "protection": protection,
            "purpose": use.purpose,
            "legal_basis": use.legal_basis,
            "retention_years": use.retention_years,
            "readers": ", ".join(use.readers),
        }
        for use in register.values()
        for column, protection in sorted(use.personal_fields.items())
    ]
    return pa.Table.from_pylist(rows, schema=register_schema())


def lineage_rows(uses: list[DataUse]) -> pa.Table:
    rows = [{"mart": u.mart, "dataset": u.dataset, "personal_field": u.personal_field} for u in uses]
    return pa.Table.from_pylist(rows, schema=lineage_schema())


def land_data_use(
    catalog: Catalog, register: dict[str, DatasetUse], models_dir: Path = DBT_MODELS, properties: dict | None = None
) -> tuple[int, int]:
    """Replace both reference tables as a whole; (register rows, lineage rows) landed."""
    from lake.plan_scenarios import REFERENCE_NAMESPACE
    from lake.tables import ensure_table

    catalog.create_namespace_if_not_exists(REFERENCE_NAMESPACE)
    props = {k: str(v) for k, v in (properties or {}).items()}
    counts = []
    for name, data in (
        (REGISTER_TABLE, register_rows(register)),
        (LINEAGE_TABLE, lineage_rows(derive_data_use(models_dir, register))),
    ):
        table = ensure_table(catalog, name, data.schema, partition_by=())
        with warnings.catch_warnings():  # the first landing has nothing to delete
            warnings.filterwarnings("ignore", message="Delete operation did not match any records")
            table.overwrite(data, snapshot_properties=props)
        counts.append(data.num_rows)
    return counts[0], counts[1]
