"""The one load flow: one entity's rows from a landing folder or a published feed into the lake.

Every load runs `run_load`: a new load id and working directory, staging
(`ingestion.staging.stage_batches`: contracts, staged Parquet, quarantine file), the
commit (`lake.raw_commit.commit_staged`: quarantine, raw partitions, ledger rows), and
the working directory discarded. Its callers only say where the rows come from:

- `ingest_year`: the landing zone, one entity and fiscal year (the raw Dagster assets);
- `ingest_feed`: `civic ingest --kind KIND LOCATION`, a published feed of any years;
- `load_feeds`: the feeds of feeds.yml in a refresh, their rows of the refreshed years.

Which years, written once (`run_load`): a dated entity read from a feed is staged once,
each row taking the fiscal year of its event, and committed year by year (in a refresh
only the refreshed years, each also when the feed has no row of it; rows whose year could
not be told are quarantined under fiscal year null). Undated reference data (a service
catalogue) and the landing zone's folders of one year each are staged year by year. A
feed's undated rows are filed under the years its dated rows fall in (`civic ingest`:
all of them, or the current fiscal year when it has none; a refresh: those it
refreshes, the others committed empty), never under a year the feed does not cover.

Something every load needs later (pseudonymising columns, hashing the source files)
goes into `_stage_and_commit` below, the one place every load passes through between
its extract and its commit (or, if it works batch by batch, into `stage_batches`), with
what it finds recorded on `contracts.staged.StagedLoad` for the commit and the ledger.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import uuid
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

import polars as pl
import pyarrow as pa
from pyiceberg.catalog import Catalog

from contracts.coerce import UNDECLARED, Reading
from contracts.entities import ENTITIES, Entity
from contracts.entities import entity as entity_spec
from contracts.rules import LoadContext
from contracts.validate import fiscal_years_of
from ingestion.feeds import feed_kind
from ingestion.feeds.open311_http import is_endpoint
from ingestion.landing import landing_files
from ingestion.pseudonymise import Keyring, load_keyring, require_key
from ingestion.service_ids import Collision, catalogue_ids, namespaced, shared_service_ids
from ingestion.staging import discard, file_batches, stage_batches
from lake.ledger_chain import sha256_file
from lake.load_ledger import LoadRecord
from lake.raw_commit import commit_staged
from lake.raw_ids import other_years_ids
from lake.reference import service_ids_by_source, services_catalogue
from lake.settings import Settings
from orchestration.load.feeds import Feed, read_feeds

LANDING_FEED = "landing"  # the `_source` of the landing zone's rows

Batches = Iterable[tuple[str, pa.RecordBatch]]  # (source file, Arrow batch) pairs
# For the fiscal year staged (None: a load spanning years), the source files known
# before reading and the (source file, batch) pairs; called once per staging.
Extract = Callable[[int | None], tuple[list[str], Batches]]
WriteLock = Callable[[], AbstractContextManager]


def new_load_id(entity: str, fiscal_year: int | None) -> str:
    stamp = dt.datetime.now().strftime("%Y%m%dT%H%M%S")
    # a load spanning years (a feed) names none: its ledger rows give each year
    year = f"-fy{fiscal_year}" if fiscal_year is not None else ""
    return f"{entity}{year}-{stamp}-{uuid.uuid4().hex[:8]}"


def run_load(
    settings: Settings,
    catalog: Catalog,
    entity: str,
    extract: Extract,
    source: str,
    *,
    years: list[int] | None = None,
    covered: Sequence[int] | None = None,
    year_bound: bool = False,
    run_id: str | None = None,
    write_lock: WriteLock = contextlib.nullcontext,
    reading: Reading = UNDECLARED,
) -> list[LoadRecord]:
    """Load one entity's rows into the lake; one ledger row per (fiscal year, source) committed.

    `years`: the fiscal years a refresh loads (each is committed, with no rows if the
    feed has none of it); None: the years the rows hold (`civic ingest`: nothing is
    committed for a staging that received no row). `covered`: the years a feed's dated
    rows fall in, where its undated rows are filed (without `years`: all of them, or the
    current fiscal year when it has none; with `years`: those of them, and the other
    refreshed years committed empty, so a catalogue never stands for a year its feed
    does not cover; None: every refreshed year). `year_bound`: `extract`
    reads one fiscal year's own files (the landing zone), so every entity is staged
    year by year. `write_lock` is held around each commit. `reading`: how the source
    writes its times, as it declares them (date order, time zone, epoch unit).
    """
    spec = entity_spec(entity)
    keyring = keyring_of(settings)  # none: a batch holding a personal value refuses the load
    if spec.is_dated and not year_bound:  # each row takes the fiscal year of its event
        return _stage_and_commit(
            settings, catalog, spec, extract, source, None, years, run_id, write_lock, keyring, reading
        )
    # undated reference data, or one year's landing files: staged and filed year by year
    filed_under = years if years is not None else (list(covered or ()) or [settings.calendar.year_of(dt.date.today())])
    records: list[LoadRecord] = []
    for fy in filed_under:
        uncovered = years is not None and covered is not None and fy not in covered
        take = _nothing if uncovered else extract
        records += _stage_and_commit(
            settings, catalog, spec, take, source, fy, years, run_id, write_lock, keyring, reading
        )
    return records


def _nothing(_fy: int | None) -> tuple[list[str], Batches]:
    """The extract of a year a feed does not cover: no rows (its commit clears the year)."""
    return [], iter(())


def _stage_and_commit(
    settings: Settings,
    catalog: Catalog,
    spec: Entity,
    extract: Extract,
    source: str,
    fiscal_year: int | None,
    years: list[int] | None,
    run_id: str | None,
    write_lock: WriteLock,
    keyring: Keyring | None,
    reading: Reading = UNDECLARED,
) -> list[LoadRecord]:
    """One staging and its commit: for `fiscal_year`, or (None) spanning years."""
    started, load_id = dt.datetime.now(), new_load_id(spec.name, fiscal_year)
    work = settings.work_dir / load_id
    try:
        files, batches = extract(fiscal_year)
        # rows staged for one fiscal year name services of the newest catalogue at or
        # before it (lake.reference: none at all quarantines the rows that name one)
        services = services_catalogue(catalog, fiscal_year) if spec.checks_service and fiscal_year is not None else None
        ctx = LoadContext(
            fiscal_year,
            settings.calendar,
            services.service_ids if services else None,
            catalogue_year=services.catalogue_year if services else None,
            # one year's rows: their ids must not repeat those of the lake's other years
            other_years_ids=other_years_ids(catalog, spec.name, spec.id_column, fiscal_year)
            if fiscal_year is not None and spec.is_dated
            else None,
            date_order=reading.date_order,
            time_zone=reading.time_zone,
            epoch_unit=reading.epoch_unit,
        )
        staged = stage_batches(spec, batches, ctx, load_id, work, source, files=files, keyring=keyring)
        if years is None and staged.received == 0:
            return []  # `civic ingest` commits what a feed holds: nothing here
        # the ledger chains the bytes the rows came from: a file can be proven the source
        staged.source_hashes = {f: sha256_file(f) for f in staged.files if Path(f).is_file()}
        with write_lock():
            return commit_staged(
                catalog,
                staged,
                started_at=started,
                run_id=run_id,
                only_years=years if fiscal_year is None else None,
                # a year the feed does not cover is cleared on purpose: no shrink guard
                min_share=None if settings.allow_shrink or extract is _nothing else settings.shrink_guard,
            )
    finally:
        discard(work)


def keyring_of(settings: Settings) -> Keyring | None:
    """The pseudonymisation keyring the settings name (None: no key configured)."""
    return load_keyring(settings.pseudonym_key, settings.pseudonym_key_file, settings.pseudonym_key_version)


def check_keys(settings: Settings, entities: Iterable[str]) -> None:
    """Refuse, before the first load, a run of entities that can carry personal columns
    when no key is configured (so it loads all its entities or none)."""
    keyring = keyring_of(settings)
    for name in entities:
        require_key(entity_spec(name), keyring)


def check_refresh_keys(settings: Settings, years: list[int]) -> None:
    """Refuse a refresh that would load personal columns without a key: an entity that
    can carry them, with landing files of a refreshed year or a feed of feeds.yml."""
    if keyring_of(settings) is not None:
        return
    fed = {e for f in read_feeds(settings.feeds_file) for e in f.entities}
    for spec in ENTITIES.values():
        if spec.personal and (spec.name in fed or any(landing_files(settings.landing, spec.name, y) for y in years)):
            require_key(spec, None)


def ingest_year(
    settings: Settings, catalog: Catalog, entity: str, fiscal_year: int, run_id: str | None = None
) -> LoadRecord:
    """Stage, validate and commit one year of one entity's landing files; returns its ledger row."""

    def extract(fy: int | None) -> tuple[list[str], Batches]:
        assert fy is not None
        files = landing_files(settings.landing, entity, fy)
        return [str(f) for f in files], file_batches(entity_spec(entity), files)

    [record] = run_load(
        settings, catalog, entity, extract, LANDING_FEED, years=[fiscal_year], year_bound=True, run_id=run_id
    )
    return record


class _FeedReader(Protocol):
    def extract(self, location: str, entity: str) -> Batches: ...


class _FeedClient(_FeedReader, Protocol):
    entities: tuple[str, ...]
    date_order: str | None
    time_zone: str | None
    epoch_unit: str | None


def _feed_extract(client: _FeedReader, location: str, entity: str, prefix: str | None = None) -> Extract:
    """A feed's rows of one entity, read anew by the same client at each staging, with
    its service ids in its namespace (`prefix`) before the contracts see them."""
    return lambda _fy: ([], namespaced(client.extract(location, entity), prefix))


class ServiceIdCollision(ValueError):
    """Two feeds' catalogues share service ids no namespace tells apart: refused before loading."""

    def __init__(self, collision: Collision, key: str) -> None:
        super().__init__(
            f"{collision.describe()}: the marts would count them as one service; "
            f'give a feed its own namespace ({key} "{collision.second}:"), '
            "or the same one to two feeds of one catalogue"
        )


def _catalogue(client: _FeedReader, location: str, prefix: str | None) -> set[str]:
    return catalogue_ids(namespaced(client.extract(location, "services"), prefix))


def check_feed_catalogues(settings: Settings) -> None:
    """Refuse a refresh whose feeds.yml holds two service catalogues sharing ids without a
    namespace (`service_id_prefix`). Endpoints are not fetched for this (a refresh fetches
    them once, when it loads them)."""
    catalogues = {
        f.name: (f.service_id_prefix, _catalogue(feed_kind(f.kind, f.observed_at), f.location, f.service_id_prefix))
        for f in read_feeds(settings.feeds_file)
        if "services" in f.entities and not is_endpoint(f.location)
    }
    if collisions := shared_service_ids(catalogues):
        raise ServiceIdCollision(collisions[0], "service_id_prefix:")


def default_feed_name(kind: str, location: str) -> str:
    """Names the feed, so two cities' feeds of one kind never replace each other."""
    if "://" in location:  # an endpoint: host and path, without query or client options
        parts = urlsplit(location)
        return f"{kind}:" + re.sub(r"[^A-Za-z0-9.-]+", "_", f"{parts.netloc}{parts.path}").strip("_")
    return f"{kind}:{Path(location.rstrip('/')).stem or kind}"


def ingest_feed(
    settings: Settings,
    catalog: Catalog,
    kind: str,
    location: str,
    name: str | None = None,
    run_id: str | None = None,
    observed_at: dt.datetime | None = None,
    service_id_prefix: str | None = None,
) -> list[LoadRecord]:
    """`civic ingest --kind KIND LOCATION`: every entity of a published feed, all its years.

    A catalogue sharing service ids with another feed's in the lake is refused first
    (`ServiceIdCollision`), unless the shared ids lie in `service_id_prefix`."""
    client = feed_kind(kind, observed_at, settings.state_dir)  # one client for all its entities
    name = name or default_feed_name(kind, location)
    check_keys(settings, client.entities)  # a feed's entities load all or none for want of a key
    if "services" in client.entities:
        others = {s: (None, ids) for s, ids in service_ids_by_source(catalog).items() if s != name}
        ours = _catalogue(client, location, service_id_prefix)
        if collisions := [
            c for c in shared_service_ids({**others, name: (service_id_prefix, ours)}) if name in (c.first, c.second)
        ]:
            first = collisions[0]
            other = first.first if first.second == name else first.second
            raise ServiceIdCollision(Collision(other, name, first.shared), "--service-id-prefix")
    records: list[LoadRecord] = []
    for entity in client.entities:
        covered = sorted({r.fiscal_year for r in records if r.fiscal_year is not None})
        records += run_load(
            settings,
            catalog,
            entity,
            _feed_extract(client, location, entity, service_id_prefix),
            name,
            covered=covered,
            run_id=run_id,
            reading=Reading(client.date_order, client.time_zone, client.epoch_unit),
        )
    return records


def feeds_for(settings: Settings, entity: str) -> list[Feed]:
    return [f for f in read_feeds(settings.feeds_file) if entity in f.entities]


def load_feeds(
    settings: Settings,
    catalog: Catalog,
    entity: str,
    years: list[int],
    run_id: str | None = None,
    write_lock: WriteLock = contextlib.nullcontext,
) -> list[LoadRecord]:
    """The feeds of feeds.yml in a refresh: one ledger row per (feed, refreshed year) of this entity."""
    records: list[LoadRecord] = []
    spec = entity_spec(entity)
    if entity == "services":  # a run launched from the Dagster UI skips the CLI's check
        check_feed_catalogues(settings)
    for feed in feeds_for(settings, entity):
        # one instance: an endpoint is fetched once per call
        client = feed_kind(feed.kind, feed.observed_at, settings.state_dir)
        # a feed's undated reference data (a services catalogue) stands for the years
        # its dated rows fall in, not for every refreshed year
        reading = Reading(
            feed.date_order or client.date_order,
            feed.time_zone or client.time_zone,
            feed.epoch_unit or client.epoch_unit,
        )
        covered = None if spec.is_dated else feed_years(settings, client, feed.location, reading)
        records += run_load(
            settings,
            catalog,
            entity,
            _feed_extract(client, feed.location, entity, feed.service_id_prefix),
            feed.name,
            years=years,
            covered=covered,
            run_id=run_id,
            write_lock=write_lock,
            reading=reading,
        )
    return records


def feed_years(settings: Settings, client: _FeedClient, location: str, reading: Reading) -> list[int] | None:
    """The fiscal years a feed's dated rows fall in (read once more, coerced, not staged);
    None for a feed of reference data alone, which stands for every refreshed year."""
    dated = [entity_spec(e) for e in client.entities if entity_spec(e).is_dated]
    if not dated:
        return None
    years: set[int] = set()
    for spec in dated:
        for _path, batch in client.extract(location, spec.name):
            frame = pl.from_arrow(batch)
            assert isinstance(frame, pl.DataFrame)
            years |= fiscal_years_of(spec, frame, settings.calendar, reading)
    return sorted(years)
