"""Sources in the formats governments already publish, mapped onto the canonical entities.

Each source kind reads a file, a directory or (later) an endpoint and yields, per
canonical entity, Arrow batches with canonical column names; every other source column
is kept as it came. Types are left to the contracts, which coerce and quarantine.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from ingestion.sources.au_dta import AuDtaSource
from ingestion.sources.base import Source
from ingestion.sources.boston_cityscore import BostonCityScoreSource
from ingestion.sources.fdp import FiscalDataPackageSource
from ingestion.sources.ca_dmv import CaDmvCsvSource, CaDmvXmlSource
from ingestion.sources.gc_inventory import GcServiceInventorySource
from ingestion.sources.ma_rmv import MaRmvXmlSource
from ingestion.sources.nyc311 import Nyc311Source
from ingestion.sources.nyc_mmr import NycMmrSource
from ingestion.sources.open311 import Open311Source
from ingestion.sources.sandiego_survey import SanDiegoSurveySource
from ingestion.sources.uk_opg import UkOpgSource
from ingestion.sources.us_dap import UsDapSource

KINDS: tuple[type[Source], ...] = (
    Open311Source, Nyc311Source,  # 3-1-1 requests
    GcServiceInventorySource, FiscalDataPackageSource,  # inventories and budgets
    CaDmvXmlSource, CaDmvCsvSource, MaRmvXmlSource,  # queue and wait-time feeds
    UsDapSource,  # web analytics
    UkOpgSource, AuDtaSource, NycMmrSource, BostonCityScoreSource,  # published KPIs
    SanDiegoSurveySource,  # resident surveys
)
SOURCES: dict[str, type[Source]] = {cls.kind: cls for cls in KINDS}


def source_kind(kind: str, observed_at: dt.datetime | None = None, state_dir: Path | None = None) -> Source:
    try:
        source = SOURCES[kind]()
    except KeyError:
        raise KeyError(f"unknown source kind {kind!r}; known: {', '.join(sorted(SOURCES))}") from None
    source.observed_at = observed_at
    source.state_dir = state_dir
    return source
