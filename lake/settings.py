"""Where the lakehouse keeps its state, read once from the environment.

Everything lives under one directory, CIVIC_HOME (default `.civic/` in the working
directory), so two checkouts or two tests never share state by accident. Each location
can be overridden on its own; S3 credentials come only from the standard AWS variables.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from contracts.fiscal_year import DEFAULT_FISCAL_YEARS, FiscalCalendar, FiscalYears

PROFILES = ("embedded", "production")
# Files and directories the lake creates are its owner's only: the warehouse holds raw
# personal data, the DuckDB files every mart; another local user must not read them
# around the SQL guard.
OWNER_ONLY_UMASK = 0o077

# Production defaults: the Iceberg SQL catalog on PostgreSQL (host, user, password and
# database from the standard libpq variables PGHOST, PGPORT, PGUSER, PGPASSWORD,
# PGDATABASE) and the warehouse on S3-compatible storage.
PRODUCTION_CATALOG_URI = "postgresql+psycopg://"
PRODUCTION_WAREHOUSE = "s3://civic-lake/warehouse"


@dataclass(frozen=True)
class Settings:
    profile: str
    home: Path
    catalog_uri: str
    catalog_name: str
    warehouse: str
    landing: str
    duckdb_path: Path
    calendar: FiscalCalendar
    s3_endpoint: str | None
    s3_region: str
    s3_access_key_id: str | None
    s3_secret_access_key: str | None
    # feeds.yml: the published feeds a refresh loads besides the landing zone
    feeds_file: Path | None = None
    # CIVIC_FISCAL_YEARS: the fiscal years a refresh can load (the Dagster partitions)
    fiscal_years: FiscalYears = FiscalYears()
    # CIVIC_MARTS_DB: the marts-only file `civic query` and BI tools read (lake/marts_file.py)
    marts_path: Path = Path(".civic/marts_only.duckdb")
    # CIVIC_QUERY_*: the bounds on one `civic query` (lake/marts_query.QueryLimits)
    query_timeout_seconds: float = 30.0
    query_memory_limit: str = "1GB"
    query_max_rows: int = 100_000
    query_threads: int = 2
    # CIVIC_SERVING_URI: the PostgreSQL database BI tools read the marts from (None: no
    # serving database, a refresh publishes to Iceberg only); see lake/marts_serving.py
    serving_uri: str | None = None
    # `civic maintenance` (lake/maintenance.py): snapshots older than this are expired
    # (CIVIC_SNAPSHOT_RETENTION_DAYS), unreferenced files older than this are removed
    # (CIVIC_ORPHAN_MIN_AGE_HOURS: longer than any commit takes)
    snapshot_retention_days: float = 7.0
    orphan_min_age_hours: float = 24.0
    # CIVIC_RUN_STALE_SECONDS: a run whose heartbeat is older is taken for dead
    # (orchestration/services/stale_runs.py)
    run_stale_seconds: float = 300.0
    # The pseudonymisation master key (ingestion.pseudonymise): CIVIC_PSEUDONYM_KEY (hex),
    # else the file CIVIC_PSEUDONYM_KEY_FILE (default $CIVIC_HOME/pseudonym.key); its
    # version (CIVIC_PSEUDONYM_KEY_VERSION) is written into every pseudonym.
    pseudonym_key: str | None = field(default=None, repr=False)
    pseudonym_key_file: Path | None = None
    pseudonym_key_version: int = 1
    # A load that would replace a year's rows with fewer than this share of the previous
    # load's (CIVIC_SHRINK_GUARD, 0 = never refused) stops unless CIVIC_ALLOW_SHRINK=1
    # (`civic ingest|refresh --allow-shrink`): lake/shrink_guard.py
    shrink_guard: float = 0.5
    allow_shrink: bool = False

    @property
    def catalog_is_sqlite(self) -> bool:
        """SQLite is not built for concurrent writers: refreshes are queued one at a time."""
        return self.catalog_uri.startswith("sqlite")

    @property
    def warehouse_is_s3(self) -> bool:
        return self.warehouse.startswith("s3://")

    @property
    def work_dir(self) -> Path:
        """Scratch space for per-run working directories (dlt pipelines, staging)."""
        return self.home / "work"

    @property
    def state_dir(self) -> Path:
        """What sources remember between runs (an Open311 endpoint's mirror and cursor)."""
        return self.home / "state"

    def iceberg_properties(self) -> dict[str, str]:
        """pyiceberg catalog properties for this catalog and warehouse."""
        props = {"uri": self.catalog_uri, "warehouse": self.warehouse}
        if self.warehouse_is_s3:
            props["s3.region"] = self.s3_region
            props["s3.retry-strategy-impl"] = "lake.s3_retry.StandardRetries"  # lake/s3_retry.py
            if self.s3_endpoint:
                props["s3.endpoint"] = self.s3_endpoint
                props["s3.force-virtual-addressing"] = "false"
            if self.s3_access_key_id:
                props["s3.access-key-id"] = self.s3_access_key_id
            if self.s3_secret_access_key:
                props["s3.secret-access-key"] = self.s3_secret_access_key
        return props


def owner_only() -> None:
    """Make every file this process (and the dbt, SeaweedFS and Dagster processes it
    starts) creates owner-only (0600, directories 0700)."""
    os.umask(OWNER_ONLY_UMASK)


def secure_home(home: Path) -> None:
    """CIVIC_HOME created (or closed, when it exists open to others) 0700, and the
    process's files owner-only from now on; called by every command that writes state."""
    owner_only()
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    if home.stat().st_mode & 0o077:
        home.chmod(0o700)


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Settings from environment variables (documented in README, 'Settings')."""
    env = dict(os.environ if env is None else env)
    profile = env.get("CIVIC_PROFILE", "embedded")
    if profile not in PROFILES:
        raise ValueError(f"CIVIC_PROFILE must be one of {', '.join(PROFILES)}, got {profile!r}")
    home = Path(env.get("CIVIC_HOME", ".civic")).expanduser().resolve()
    production = profile == "production"
    try:
        calendar = FiscalCalendar(int(env.get("CIVIC_FY_START_MONTH", "1")))
    except ValueError as err:
        raise ValueError(f"CIVIC_FY_START_MONTH: {err}") from None
    fiscal_years = FiscalYears.parse(env.get("CIVIC_FISCAL_YEARS", "{}:{}".format(*DEFAULT_FISCAL_YEARS)))
    return Settings(
        profile=profile,
        home=home,
        catalog_uri=env.get(
            "CIVIC_CATALOG_URI", PRODUCTION_CATALOG_URI if production else f"sqlite:///{home / 'catalog.db'}"
        ),
        catalog_name=env.get("CIVIC_CATALOG_NAME", "civic"),
        warehouse=env.get("CIVIC_WAREHOUSE", PRODUCTION_WAREHOUSE if production else (home / "warehouse").as_uri()),
        landing=env.get("CIVIC_LANDING", str(home / "landing")),
        duckdb_path=Path(env.get("CIVIC_DUCKDB", str(home / "lakehouse.duckdb"))).expanduser().resolve(),
        calendar=calendar,
        s3_endpoint=env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL"),
        s3_region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
        s3_access_key_id=env.get("AWS_ACCESS_KEY_ID"),
        s3_secret_access_key=env.get("AWS_SECRET_ACCESS_KEY"),
        feeds_file=_feeds_file(env, home),
        fiscal_years=fiscal_years,
        marts_path=Path(env.get("CIVIC_MARTS_DB", str(home / "marts_only.duckdb"))).expanduser().resolve(),
        query_timeout_seconds=_positive(env, "CIVIC_QUERY_TIMEOUT", "30", float),
        query_memory_limit=env.get("CIVIC_QUERY_MEMORY", "1GB"),
        query_max_rows=_positive(env, "CIVIC_QUERY_MAX_ROWS", "100000", int),
        query_threads=_positive(env, "CIVIC_QUERY_THREADS", "2", int),
        serving_uri=env.get("CIVIC_SERVING_URI") or None,
        snapshot_retention_days=_number(env, "CIVIC_SNAPSHOT_RETENTION_DAYS", 7.0),
        orphan_min_age_hours=_number(env, "CIVIC_ORPHAN_MIN_AGE_HOURS", 24.0),
        run_stale_seconds=_number(env, "CIVIC_RUN_STALE_SECONDS", 300.0),
        pseudonym_key=env.get("CIVIC_PSEUDONYM_KEY") or None,
        pseudonym_key_file=Path(env.get("CIVIC_PSEUDONYM_KEY_FILE", str(home / "pseudonym.key")))
        .expanduser()
        .resolve(),
        pseudonym_key_version=_key_version(env.get("CIVIC_PSEUDONYM_KEY_VERSION", "1")),
        shrink_guard=_share(env, "CIVIC_SHRINK_GUARD", 0.5),
        allow_shrink=env.get("CIVIC_ALLOW_SHRINK", "").strip().lower() in ("1", "true", "yes"),
    )


def _positive(env: dict[str, str], name: str, default: str, kind: type):
    try:
        value = kind(env.get(name, default))
    except ValueError:
        raise ValueError(f"{name} must be a positive number, got {env[name]!r}") from None
    if value <= 0:
        raise ValueError(f"{name} must be a positive number, got {env[name]!r}")
    return value


def _share(env: dict[str, str], name: str, default: float) -> float:
    value = _number(env, name, default)
    if value > 1:
        raise ValueError(f"{name} must be a share from 0 to 1, got {env[name]!r}")
    return value


def _number(env: dict[str, str], name: str, default: float) -> float:
    text = env.get(name, "")
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {text!r}") from None
    if value < 0:
        raise ValueError(f"{name} must not be negative, got {text!r}")
    return value


def _key_version(text: str) -> int:
    try:
        version = int(text)
    except ValueError:
        version = 0
    if version < 1:
        raise ValueError(f"CIVIC_PSEUDONYM_KEY_VERSION must be a whole number from 1, got {text!r}")
    return version


def _feeds_file(env: dict[str, str], home: Path) -> Path:
    """`$CIVIC_FEEDS`, else `$CIVIC_HOME/feeds.yml`; the old `$CIVIC_SOURCES` and
    `$CIVIC_HOME/sources.yml` are still read, with a notice (once per process)."""
    if "CIVIC_FEEDS" in env:
        return Path(env["CIVIC_FEEDS"]).expanduser().resolve()
    if "CIVIC_SOURCES" in env:
        _deprecated("CIVIC_SOURCES: set CIVIC_FEEDS instead")
        return Path(env["CIVIC_SOURCES"]).expanduser().resolve()
    feeds, old = home / "feeds.yml", home / "sources.yml"
    if not feeds.exists() and old.exists():
        _deprecated(f"{old} is read as the feeds file: rename it to {feeds.name}")
        return old
    return feeds


_NOTED: set[str] = set()


def _deprecated(note: str) -> None:
    if note not in _NOTED:
        _NOTED.add(note)
        print(f"deprecated: {note}", file=sys.stderr)
