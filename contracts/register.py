"""The data-use register (governance/processing_register.yml): per dataset, its purpose,
legal basis, personal fields and how each is protected, retention and readers.

It is a contract like the pandera models: `civic refresh` refuses to run when it is
malformed or when it disagrees with what the contracts declare personal
(`contracts.entities.Entity.personal`), so the register cannot drift from what ingestion
really does. Where it is: `$CIVIC_REGISTER`, else the repository's file.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from contracts.entities import ENTITIES

REGISTER_ENV = "CIVIC_REGISTER"
DEFAULT_REGISTER_FILE = Path(__file__).resolve().parents[1] / "governance" / "processing_register.yml"
_KEYS = ("purpose", "legal_basis", "retention_years", "readers", "personal_fields")


class RegisterError(ValueError):
    """The register is malformed or does not match the contracts."""


@dataclass(frozen=True)
class DatasetUse:
    dataset: str
    purpose: str
    legal_basis: str
    retention_years: int
    readers: tuple[str, ...]
    personal_fields: dict[str, str]  # column -> protection spec (pseudonym:<domain>, grid, drop)


def register_file(env: Mapping[str, str] | None = None) -> Path:
    configured = (os.environ if env is None else env).get(REGISTER_ENV)
    return Path(configured).expanduser().resolve() if configured else DEFAULT_REGISTER_FILE


def read_register(path: Path | None = None) -> dict[str, DatasetUse]:
    """The validated register, dataset -> its entry."""
    path = register_file() if path is None else path
    if not path.is_file():
        raise RegisterError(f"data-use register not found: {path} (set {REGISTER_ENV} to another file)")
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise RegisterError(f"{path}: not valid YAML ({' '.join(str(err).split())})") from None
    return parse_register(doc, str(path))


def parse_register(doc: object, where: str = "register") -> dict[str, DatasetUse]:
    if not isinstance(doc, dict) or doc.get("version") != 1 or not isinstance(doc.get("datasets"), dict):
        raise RegisterError(f"{where}: expected `version: 1` and a `datasets:` mapping")
    out: dict[str, DatasetUse] = {}
    for name, entry in doc["datasets"].items():
        if name not in ENTITIES:
            raise RegisterError(f"{where}: dataset {name!r} is not a known entity ({', '.join(ENTITIES)})")
        if not isinstance(entry, dict) or (missing := [k for k in _KEYS if k not in entry]):
            raise RegisterError(f"{where}: dataset {name} lacks {', '.join(missing) if entry else 'everything'}")
        years = entry["retention_years"]
        if not isinstance(years, int) or isinstance(years, bool) or years < 1:
            raise RegisterError(f"{where}: dataset {name}: retention_years must be a whole number of years from 1")
        readers = entry["readers"]
        if not isinstance(readers, list) or not readers or not all(isinstance(r, str) for r in readers):
            raise RegisterError(f"{where}: dataset {name}: readers must be a list of role names")
        fields = entry["personal_fields"] or {}
        if not isinstance(fields, dict):
            raise RegisterError(f"{where}: dataset {name}: personal_fields must map a column to its protection")
        out[name] = DatasetUse(
            name,
            str(entry["purpose"]),
            str(entry["legal_basis"]),
            years,
            tuple(readers),
            {str(c): str(p) for c, p in fields.items()},
        )
    _match_contracts(out, where)
    return out


def _match_contracts(register: dict[str, DatasetUse], where: str) -> None:
    """Every personal column of the contracts is registered with its protection, and only those."""
    for entity in ENTITIES.values():
        declared = {c: p.spec for c, p in entity.personal.items()}
        if not declared and entity.name not in register:
            continue
        if entity.name not in register:
            raise RegisterError(f"{where}: dataset {entity.name} has personal columns but no entry")
        listed = register[entity.name].personal_fields
        for column in sorted(set(declared) | set(listed)):
            if column not in listed:
                raise RegisterError(
                    f"{where}: {entity.name}.{column} is personal ({declared[column]}) but not registered"
                )
            if column not in declared:
                raise RegisterError(
                    f"{where}: {entity.name}.{column} is registered but the contracts do not protect it"
                )
            if listed[column] != declared[column]:
                raise RegisterError(
                    f"{where}: {entity.name}.{column} is registered as {listed[column]}, ingestion applies {declared[column]}"
                )


PERSONAL_TABLE_START = "<!-- personal-columns: generated by scripts/personal_columns.py -->"
PERSONAL_TABLE_END = "<!-- /personal-columns -->"


def personal_columns(register: dict[str, DatasetUse]) -> list[tuple[str, str, str, str, str]]:
    """Every entity's personal columns as (entity, column, protection, retention, readers),
    from the contracts' declarations and the register; an entity without any has one row
    with column `-` (so the list shows it was looked at, not forgotten)."""
    rows = []
    for entity in ENTITIES.values():
        use = register.get(entity.name)
        retention = f"{use.retention_years} years" if use else "-"
        readers = ", ".join(use.readers) if use else "-"
        if not entity.personal:
            rows.append((entity.name, "-", "no personal column", retention, readers))
        for column, protection in entity.personal.items():
            rows.append((entity.name, column, protection.describe(), retention, readers))
    return rows


def personal_columns_markdown(register: dict[str, DatasetUse]) -> str:
    """The table docs/trust.md carries between its markers (checked by a test)."""
    lines = [
        PERSONAL_TABLE_START,
        "| entity | column | protection | retention | readers |",
        "|---|---|---|---|---|",
        *(
            f"| {e} | {'`' + c + '`' if c != '-' else c} | {p} | {r} | {who} |"
            for e, c, p, r, who in personal_columns(register)
        ),
        PERSONAL_TABLE_END,
    ]
    return "\n".join(lines) + "\n"
