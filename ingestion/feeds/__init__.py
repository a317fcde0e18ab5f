"""Feed kinds: readers of the formats governments already publish, mapped onto the
canonical entities.

A feed is a named stream of rows a user configures (name, kind, location); its kind
reads a file, a directory or an endpoint and yields, per canonical entity, Arrow batches
with canonical column names; every other source column is kept as it came. Types are
left to the contracts, which coerce and quarantine.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from ingestion.feeds.au_dta import AuDtaKind
from ingestion.feeds.base import FeedKind
from ingestion.feeds.boston_cityscore import BostonCityScoreKind
from ingestion.feeds.ca_dmv import CaDmvCsvKind, CaDmvXmlKind
from ingestion.feeds.fdp import FiscalDataPackageKind
from ingestion.feeds.gc_inventory import GcServiceInventoryKind
from ingestion.feeds.ma_rmv import MaRmvXmlKind
from ingestion.feeds.nyc311 import Nyc311Kind
from ingestion.feeds.nyc_mmr import NycMmrKind
from ingestion.feeds.open311 import Open311Kind
from ingestion.feeds.sandiego_survey import SanDiegoSurveyKind
from ingestion.feeds.uk_opg import UkOpgKind
from ingestion.feeds.us_dap import UsDapKind

KINDS: tuple[type[FeedKind], ...] = (
    Open311Kind,
    Nyc311Kind,  # 3-1-1 requests
    GcServiceInventoryKind,
    FiscalDataPackageKind,  # inventories and budgets
    CaDmvXmlKind,
    CaDmvCsvKind,
    MaRmvXmlKind,  # queue and wait-time feeds
    UsDapKind,  # web analytics
    UkOpgKind,
    AuDtaKind,
    NycMmrKind,
    BostonCityScoreKind,  # published KPIs
    SanDiegoSurveyKind,  # resident surveys
)
FEED_KINDS: dict[str, type[FeedKind]] = {cls.kind: cls for cls in KINDS}


def feed_kind(kind: str, observed_at: dt.datetime | None = None, state_dir: Path | None = None) -> FeedKind:
    try:
        reader = FEED_KINDS[kind]()
    except KeyError:
        raise KeyError(f"unknown feed kind {kind!r}; known: {', '.join(sorted(FEED_KINDS))}") from None
    reader.observed_at = observed_at
    reader.state_dir = state_dir
    return reader
