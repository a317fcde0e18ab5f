"""`feeds.yml`: the published feeds a refresh loads besides the landing zone.

Found at `$CIVIC_FEEDS` or `$CIVIC_HOME/feeds.yml` (the old `$CIVIC_SOURCES` and
`$CIVIC_HOME/sources.yml` are still read, with a notice; see lake/settings.py); no file
means no feeds. Each entry of its `sources:` list names a feed (the `_source` of its
rows), its kind and where it is; a relative location is taken from the file's own
folder. See docs/feeds.md.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

import yaml

from contracts.coerce import DATE_ORDERS, EPOCH_UNITS, time_zone_error
from ingestion.errors import SourceFileError
from ingestion.feeds import FEED_KINDS, feed_kind
from ingestion.feeds.open311_http import is_endpoint, parse_options

KEYS = (
    "name",
    "kind",
    "location",
    "entities",
    "options",
    "observed_at",
    "date_order",
    "time_zone",
    "epoch_unit",
    "service_id_prefix",
)
HTTP_KINDS = ("open311",)  # the kinds that read a live endpoint
# the name is a partition value and a folder name in the warehouse
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")
PREFIX = re.compile(r"^\S+$")  # a service-id prefix: any text without spaces


class FeedsConfigError(ValueError):
    """A feeds.yml that cannot be used: names the file and the entry."""


@dataclass(frozen=True)
class Feed:
    """A published feed: its rows are loaded with `_source` = its name."""

    name: str
    kind: str
    location: str  # an absolute path, or a URL with its client options in the fragment
    entities: tuple[str, ...]  # the raw tables it feeds, in the kind's load order
    # the local time a snapshot without a time of its own was fetched (ca_dmv_xml,
    # ma_rmv_xml), as `civic ingest --observed-at` gives it
    observed_at: dt.datetime | None = None
    # day/month/year text dates: `mdy` or `dmy` (None: the kind's own, else undeclared)
    date_order: str | None = None
    # the IANA zone its local times are in, and the unit of a time given as a number
    # (None: the kind's own, else undeclared; contracts.coerce)
    time_zone: str | None = None
    epoch_unit: str | None = None
    # the namespace of its service ids (`bloomington:`), put before every service_id it
    # gives, so they cannot collide with another feed's (ingestion.service_ids)
    service_id_prefix: str | None = None


def read_feeds(path: Path | None) -> list[Feed]:
    if path is None or not path.exists():
        return []
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise FeedsConfigError(f"{path}: not readable YAML ({err})") from err
    return parse_feeds(data, path)


def parse_feeds(data: object, path: Path) -> list[Feed]:
    if data is None:
        return []
    if not isinstance(data, dict) or set(data) != {"sources"} or not isinstance(data["sources"], (list, type(None))):
        raise FeedsConfigError(f"{path}: expected one key, `sources:`, holding a list of entries")
    parsed: list[Feed] = []
    for i, entry in enumerate(data["sources"] or []):
        label = f"{path}: sources[{i}]" + (
            f" ({entry.get('name')})" if isinstance(entry, dict) and entry.get("name") else ""
        )
        try:
            parsed.append(_entry(entry, path.parent))
        except (ValueError, SourceFileError) as err:
            raise FeedsConfigError(f"{label}: {err}") from err
        if parsed[-1].name in [s.name for s in parsed[:-1]]:
            raise FeedsConfigError(f"{label}: the name {parsed[-1].name!r} is used twice (each feed needs its own)")
    return parsed


def _entry(entry: object, base: Path) -> Feed:
    if not isinstance(entry, dict):
        raise ValueError("expected a mapping with name, kind and location")
    unknown = set(entry) - set(KEYS)
    if unknown:
        raise ValueError(f"unknown key(s) {', '.join(sorted(map(str, unknown)))}; known: {', '.join(KEYS)}")
    for key in ("name", "kind", "location"):
        if not isinstance(entry.get(key), str) or not entry[key].strip():
            raise ValueError(f"`{key}` is missing or not text")
    name, kind, location = entry["name"].strip(), entry["kind"].strip(), entry["location"].strip()
    if not NAME.match(name):
        raise ValueError(f"name {name!r}: use letters, digits and . _ : - only")
    if kind not in FEED_KINDS:
        raise ValueError(f"unknown kind {kind!r}; known: {', '.join(sorted(FEED_KINDS))}")
    produces = feed_kind(kind).entities
    wanted = entry.get("entities") or list(produces)
    if not isinstance(wanted, list) or not all(isinstance(e, str) and e in produces for e in wanted):
        raise ValueError(f"`entities` must be a list drawn from {', '.join(produces)}")
    date_order = entry.get("date_order")
    if date_order is not None and date_order not in DATE_ORDERS:
        raise ValueError(f"`date_order` must be one of {', '.join(DATE_ORDERS)}, got {date_order!r}")
    time_zone = entry.get("time_zone")
    if time_zone is not None and (problem := time_zone_error(time_zone)):
        raise ValueError(problem)
    epoch_unit = entry.get("epoch_unit")
    if epoch_unit is not None and epoch_unit not in EPOCH_UNITS:
        raise ValueError(f"`epoch_unit` must be one of {', '.join(EPOCH_UNITS)}, got {epoch_unit!r}")
    prefix = entry.get("service_id_prefix")
    if prefix is not None and (not isinstance(prefix, str) or not PREFIX.match(prefix)):
        raise ValueError(f'`service_id_prefix` must be text without spaces, e.g. "{name}:", got {prefix!r}')
    options = entry.get("options") or {}
    if not isinstance(options, dict):
        raise ValueError("`options` must be a mapping")
    if is_endpoint(location):
        if kind not in HTTP_KINDS:
            raise ValueError(f"{kind} reads files and folders; http(s) endpoints are read by {', '.join(HTTP_KINDS)}")
        url, _, fragment = location.partition("#")
        text = {
            **dict(parse_qsl(fragment)),
            **{str(k): str(v).lower() if isinstance(v, bool) else str(v) for k, v in options.items()},
        }
        parse_options(text, url)  # refuse a bad option now, not halfway through a refresh
        location = f"{url}#{urlencode(text)}" if text else url
    else:
        if options:
            raise ValueError("`options` apply to http(s) endpoints only")
        resolved = (base / Path(location).expanduser()).resolve()
        if not resolved.exists():
            raise ValueError(f"location {location!r} does not exist (looked for {resolved})")
        location = str(resolved)
    return Feed(
        name,
        kind,
        location,
        tuple(e for e in produces if e in wanted),
        observed_at=_observed_at(entry),
        date_order=date_order,
        time_zone=time_zone,
        epoch_unit=epoch_unit,
        service_id_prefix=prefix,
    )


def _observed_at(entry: dict) -> dt.datetime | None:
    """`observed_at: 2018-12-11T10:00` (YAML may hand over a datetime already): local time."""
    value = entry.get("observed_at")
    if value is None or isinstance(value, dt.datetime):
        return value.replace(tzinfo=None) if value else None
    try:
        return dt.datetime.fromisoformat(str(value)).replace(tzinfo=None)
    except ValueError:
        raise ValueError(f"observed_at {value!r} is not a date and time (e.g. 2018-12-11T10:00)") from None
