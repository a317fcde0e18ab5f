"""The budget plan scenarios, read from the versioned YAML file the budget office edits.

Why a Python model: dbt's Jinja cannot read a file, and the scenarios live in
`plans/scenarios.yml` (not in a seed or in code), so that a new scenario is a new entry in
that file and nothing else. This model reads and validates the file on every `dbt build`
and returns one row per scenario; marts.budget_plan prices them.

Where the file is: the config meta `scenarios_file` (int_plan_scenarios.yml: the dbt var
`plan_scenarios_file`, else the environment variable CIVIC_PLAN_SCENARIOS, else
`plans/scenarios.yml`). An absolute path is used as is; a relative one is looked up from
the working directory upwards (dbt runs from the repository root by hand and from
`dbt_project/` under Dagster, and finds the same file both ways).

The file format is documented at the top of plans/scenarios.yml and in dbt_project/README.md.
Any mistake (unknown key, duplicate name, a value out of range, no baseline) fails the
build with a message that names the scenario and the key.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
from pathlib import Path

NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
SCENARIO_KEYS = {
    "name", "description", "online_shift_points", "digital_take_up_goal", "wait_target",
    "volume_growth_pct", "services",
}
TOP_KEYS = {"version", "volume_growth_pct", "scenarios"}
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
)


class ScenarioError(ValueError):
    """The scenarios file is not valid; the message says where and why."""


def find_scenarios_file(configured: str, cwd: Path | None = None) -> Path:
    """An absolute path as is; a relative one from `cwd` (default: the working directory)
    upwards, the first directory that holds it."""
    path = Path(configured).expanduser()
    if path.is_absolute():
        if not path.is_file():
            raise ScenarioError(f"budget plan scenarios file not found: {path}")
        return path
    start = (cwd or Path.cwd()).resolve()
    for base in (start, *start.parents):
        candidate = base / path
        if candidate.is_file():
            return candidate
    raise ScenarioError(
        f"budget plan scenarios file {configured!r} not found from {start} upwards; pass an absolute "
        "path with --vars '{plan_scenarios_file: /path/scenarios.yml}' or CIVIC_PLAN_SCENARIOS"
    )


def _number(value, where: str, low: float | None = None, high: float | None = None,
            low_open: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ScenarioError(f"{where}: expected a number, got {value!r}")
    value = float(value)
    if low is not None and (value <= low if low_open else value < low):
        raise ScenarioError(f"{where}: {value:g} is below the allowed range ({'>' if low_open else '>='} {low:g})")
    if high is not None and value > high:
        raise ScenarioError(f"{where}: {value:g} is above the allowed maximum {high:g}")
    return value


def parse_scenarios(text: str) -> list[dict]:
    """Validate the YAML text and return one row per scenario (the model's columns)."""
    import yaml

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
        growth = default_growth if growth is None else _number(growth, f"{where}: volume_growth_pct", -100, low_open=True)
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
        rows.append({
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
        })
    if "baseline" not in seen:
        raise ScenarioError("scenarios file: a scenario named `baseline` is required (the plan compares against it)")
    return rows


def model(dbt, session):
    dbt.config(materialized="table")
    import pyarrow as pa

    configured = dbt.config.meta_get("scenarios_file") or "plans/scenarios.yml"
    path = find_scenarios_file(str(configured))
    rows = parse_scenarios(path.read_text(encoding="utf-8"))
    schema = pa.schema([(name, getattr(pa, type_)()) for name, type_ in COLUMNS])
    return pa.Table.from_pylist(rows, schema=schema)
