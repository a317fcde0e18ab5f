"""The budget plan scenarios: `plans/scenarios.yml` validated, and landed in the lake as the
reference table `reference.plan_scenarios` that dbt reads (model int_plan_scenarios).

The budget office edits the file; a new scenario is a new entry in it and nothing else.
The file is validated in Python before dbt runs, three times over the same code:
`civic plan --check`, `civic refresh` (a broken file is refused before anything runs, like
feeds.yml) and the Dagster asset reference/plan_scenarios, which lands the validated rows,
replacing the table as a whole, upstream of the dbt models. dbt never reads the file.

Where the file is: `CIVIC_PLAN_SCENARIOS` (a relative path is taken from the working
directory), else the repository's `plans/scenarios.yml`; resolved once here
(:func:`scenarios_file`), never searched for.

Why in lake/: the validator is pure Python over a YAML file, and its output is the rows and
Arrow schema of a lake reference table that this module also writes (through lake.tables);
contracts/ holds the pandera contracts of the raw source entities, which these rows are not.
Only the stage rule's downward imports are used (pyarrow, yaml; pyiceberg and lake.tables when
landing, imported there so `civic plan --check` loads no pyiceberg).

The file format is documented at the top of plans/scenarios.yml and in dbt_project/README.md.
Any mistake (unknown key, duplicate name, a value out of range, no baseline) is a
ScenarioError whose message names the scenario and the key.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import yaml

if TYPE_CHECKING:  # pyiceberg only for landing: `civic plan --check` starts light
    from pyiceberg.catalog import Catalog

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SCENARIOS_FILE = REPO / "plans" / "scenarios.yml"
SCENARIOS_ENV = "CIVIC_PLAN_SCENARIOS"
REFERENCE_NAMESPACE = "reference"
PLAN_SCENARIOS_TABLE = f"{REFERENCE_NAMESPACE}.plan_scenarios"

NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
SCENARIO_KEYS = {
    "name",
    "description",
    "online_shift_points",
    "digital_take_up_goal",
    "wait_target",
    "volume_growth_pct",
    "services",
}
TOP_KEYS = {"version", "volume_growth_pct", "base_fiscal_year", "adopted", "scenarios"}
# a base year the budget office may name: any year the lakehouse could hold
BASE_YEAR_RANGE = (1900, 2200)
COLUMNS = (
    ("scenario", "string"),
    ("scenario_order", "int32"),
    ("description", "string"),
    ("is_baseline", "bool_"),
    ("online_shift_points", "float64"),
    ("digital_take_up_goal", "float64"),
    ("wait_target_minutes", "float64"),
    ("wait_target_is_standard", "bool_"),
    ("volume_growth_pct", "float64"),
    ("service_ids", "string"),
    ("scenarios_version", "string"),
    ("scenarios_sha256", "string"),
    ("base_fiscal_year", "int32"),
    ("is_adopted_by_default", "bool_"),
    ("adopted_plan_years", "string"),
)


class ScenarioError(ValueError):
    """The scenarios file is not valid; the message says where and why."""


def _number(value, where: str, low: float | None = None, high: float | None = None, low_open: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ScenarioError(f"{where}: expected a number, got {value!r}")
    value = float(value)
    if low is not None and (value <= low if low_open else value < low):
        raise ScenarioError(f"{where}: {value:g} is below the allowed range ({'>' if low_open else '>='} {low:g})")
    if high is not None and value > high:
        raise ScenarioError(f"{where}: {value:g} is above the allowed maximum {high:g}")
    return value


def _fiscal_year(value, where: str) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not BASE_YEAR_RANGE[0] <= value <= BASE_YEAR_RANGE[1]:
        raise ScenarioError(f"{where}: expected a fiscal year such as 2024, got {value!r}")
    return value


def parse_adopted(value, names: set[str]) -> tuple[str, dict[int, str]]:
    """The `adopted` key: one scenario name (adopted for every plan year), or a mapping of
    plan years to names with an optional `default`. Absent: the baseline. Returns
    (default scenario, {plan year: scenario})."""
    if value is None:
        return "baseline", {}
    if isinstance(value, str):
        value = {"default": value}
    if not isinstance(value, dict) or not value:
        raise ScenarioError(
            f"adopted: expected a scenario name or a mapping of plan years to scenario names, got {value!r}"
        )
    default, by_year = "baseline", {}
    for key, name in value.items():
        where = "adopted" if key == "default" else f"adopted: {key}"
        if not isinstance(name, str) or name not in names:
            raise ScenarioError(f"{where}: {name!r} is not a scenario of this file (one of {sorted(names)})")
        if key == "default":
            default = name
        else:
            by_year[_fiscal_year(key, "adopted: plan year")] = name
    return default, by_year


def parse_scenarios(text: str) -> list[dict]:
    """Validate the YAML text and return one row per scenario (the table's columns)."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise ScenarioError(f"scenarios file is not valid YAML: {err}") from err
    if not isinstance(doc, dict):
        raise ScenarioError("scenarios file: expected a mapping with `version` and `scenarios`")
    unknown = set(doc) - TOP_KEYS
    if unknown:
        raise ScenarioError(f"scenarios file: unknown top-level key(s) {sorted(unknown)} (allowed: {sorted(TOP_KEYS)})")
    if doc.get("version") in (None, ""):
        raise ScenarioError("scenarios file: `version` is required (bump it on every change)")
    version = str(doc["version"])
    default_growth = _number(doc.get("volume_growth_pct", 0), "volume_growth_pct", low=-100, low_open=True)
    base_year = doc.get("base_fiscal_year")
    if base_year is not None and (
        isinstance(base_year, bool)
        or not isinstance(base_year, int)
        or not BASE_YEAR_RANGE[0] <= base_year <= BASE_YEAR_RANGE[1]
    ):
        raise ScenarioError(
            f"base_fiscal_year: expected a fiscal year such as 2024 (the year the plan stands on), got {base_year!r}"
        )
    items = doc.get("scenarios")
    if not isinstance(items, list) or not items:
        raise ScenarioError("scenarios file: `scenarios` must be a non-empty list")
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]

    rows, seen = [], set()
    for order, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise ScenarioError(f"scenario #{order}: expected a mapping, got {item!r}")
        name = item.get("name")
        if not isinstance(name, str) or not NAME.match(name):
            raise ScenarioError(f"scenario #{order}: `name` must be lower_snake_case, got {name!r}")
        where = f"scenario {name!r}"
        if name in seen:
            raise ScenarioError(f"{where}: duplicate name")
        seen.add(name)
        unknown = set(item) - SCENARIO_KEYS
        if unknown:
            raise ScenarioError(f"{where}: unknown key(s) {sorted(unknown)} (allowed: {sorted(SCENARIO_KEYS)})")
        shift = item.get("online_shift_points")
        goal = item.get("digital_take_up_goal")
        if shift is not None and goal is not None:
            raise ScenarioError(f"{where}: give online_shift_points or digital_take_up_goal, not both")
        shift = 0.0 if shift is None else _number(shift, f"{where}: online_shift_points", 0, 100)
        goal = None if goal is None else _number(goal, f"{where}: digital_take_up_goal", 0, 1)
        wait = item.get("wait_target")
        wait_is_standard, wait_minutes = False, None
        if isinstance(wait, str) and wait.strip().lower() == "standard":
            wait_is_standard = True
        elif wait is not None:
            wait_minutes = _number(wait, f"{where}: wait_target (`standard` or minutes)", 0)
        growth = item.get("volume_growth_pct")
        growth = (
            default_growth if growth is None else _number(growth, f"{where}: volume_growth_pct", -100, low_open=True)
        )
        services = item.get("services")
        if services is not None:
            if not isinstance(services, list) or not services or not all(isinstance(s, str) and s for s in services):
                raise ScenarioError(f"{where}: `services` must be a non-empty list of service ids")
            if any(";" in s for s in services):
                raise ScenarioError(f"{where}: a service id may not contain ';'")
        is_baseline = name == "baseline"
        if is_baseline and (shift or goal is not None or wait is not None or services is not None):
            raise ScenarioError(f"{where}: the baseline changes nothing (only description and volume_growth_pct)")
        description = item.get("description")
        rows.append(
            {
                "scenario": name,
                "scenario_order": order,
                "description": None if description is None else str(description).strip(),
                "is_baseline": is_baseline,
                "online_shift_points": shift,
                "digital_take_up_goal": goal,
                "wait_target_minutes": wait_minutes,
                "wait_target_is_standard": wait_is_standard,
                "volume_growth_pct": growth,
                "service_ids": None if services is None else ";".join(services),
                "scenarios_version": version,
                "scenarios_sha256": digest,
                "base_fiscal_year": base_year,
            }
        )
    if "baseline" not in seen:
        raise ScenarioError("scenarios file: a scenario named `baseline` is required (the plan compares against it)")
    default, by_year = parse_adopted(doc.get("adopted"), seen)
    for row in rows:
        row["is_adopted_by_default"] = row["scenario"] == default
        years = sorted(y for y, name in by_year.items() if name == row["scenario"])
        row["adopted_plan_years"] = ";".join(str(y) for y in years) or None
    return rows


def scenarios_file(env: Mapping[str, str] | None = None) -> Path:
    """The scenarios file: $CIVIC_PLAN_SCENARIOS (relative = from the working directory),
    else the repository's plans/scenarios.yml."""
    configured = (os.environ if env is None else env).get(SCENARIOS_ENV)
    if not configured:
        return DEFAULT_SCENARIOS_FILE
    return Path(configured).expanduser().resolve()


def read_scenarios(path: Path | None = None) -> list[dict]:
    """The validated rows of the scenarios file (default: :func:`scenarios_file`)."""
    path = scenarios_file() if path is None else Path(path)
    if not path.is_file():
        raise ScenarioError(f"budget plan scenarios file not found: {path} (set {SCENARIOS_ENV} to another file)")
    return parse_scenarios(path.read_text(encoding="utf-8"))


def scenarios_schema() -> pa.Schema:
    return pa.schema([(name, getattr(pa, type_)()) for name, type_ in COLUMNS])


def scenarios_arrow(rows: list[dict]) -> pa.Table:
    """The rows as the Arrow table landed in reference.plan_scenarios."""
    return pa.Table.from_pylist(rows, schema=scenarios_schema())


def land_plan_scenarios(catalog: Catalog, rows: list[dict], properties: dict[str, str] | None = None) -> int | None:
    """Replace reference.plan_scenarios as a whole with `rows` (one commit); the snapshot id."""
    from lake.tables import ensure_table, iceberg_compatible

    catalog.create_namespace_if_not_exists(REFERENCE_NAMESPACE)
    data = scenarios_arrow(rows)
    data = data.cast(iceberg_compatible(data.schema))
    table = ensure_table(catalog, PLAN_SCENARIOS_TABLE, data.schema, partition_by=())
    with warnings.catch_warnings():  # the first landing has nothing to delete
        warnings.filterwarnings("ignore", message="Delete operation did not match any records")
        table.overwrite(data, snapshot_properties={k: str(v) for k, v in (properties or {}).items()})
    snapshot = table.current_snapshot()
    return snapshot.snapshot_id if snapshot else None
