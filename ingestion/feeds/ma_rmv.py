"""Massachusetts RMV branch waits (MassDOT Qmatic XML feed, `ma_rmv_xml`) -> `wait_observations`.

`<branches><branch><town/><licensing/><registration/></branch>...`: per branch the
current estimated wait, as hh:mm:ss, for the licensing and the registration queue (the
service). The publisher's own widget reads `Closed` as a closed branch and `00:00:00` as
"no wait"; blank is "estimation unavailable". Closed and unavailable give no wait (null)
and say so in `branch_status`. The feed names branches by town only (the town is the
site) and carries no timestamp: the snapshot time comes from the file name.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from pathlib import Path

from ingestion.errors import SourceFileError
from ingestion.feeds.base import FeedKind, Reads, mapped, suffixed
from ingestion.feeds.wait_feeds import WAIT_COLUMNS, hh_mm_ss_minutes, snapshot_time

PUBLISHER = "ma_rmv"
SERVICES = ("licensing", "registration")


def rmv_wait(text: str | None) -> tuple[float | None, str]:
    """A feed value -> (wait minutes, status): (2.3, 'open') for '00:02:18', (0.0, 'open')
    for '00:00:00' (no wait), (None, 'closed') for 'Closed', (None, 'unavailable') for
    blank. ValueError for anything else."""
    if text is None or not text.strip():
        return None, "unavailable"
    if text.strip().lower() == "closed":
        return None, "closed"
    return hh_mm_ss_minutes(text), "open"


def branch_records(branch: ET.Element, observed_at: str) -> list[dict]:
    town = (branch.findtext("town") or "").strip() or None
    records = []
    for service in SERVICES:
        raw = branch.findtext(service)
        try:
            value, status = rmv_wait(raw)
            minutes = None if value is None else repr(value)
        except ValueError:  # passed on as it came: the contract quarantines the row
            minutes, status = raw, "unreadable"
        records.append(
            {
                "town": town,
                "service": service,
                "wait_text": raw,
                "branch_status": status,
                "_observation_id": f"{PUBLISHER}:{town}:{service}:{observed_at}",
                "_site_id": town,
                "_site_name": town,
                "_service_id": service,
                "_observed_at": observed_at,
                "_wait_kind": "estimated",
                "_wait_minutes": minutes,
            }
        )
    return records


def read_branches(path: Path, stated: dt.datetime | None = None) -> list[dict]:
    observed_at = snapshot_time(path, stated).isoformat()
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError) as err:
        raise SourceFileError(str(path), f"not well-formed XML ({err})") from err
    if root.tag != "branches":
        raise SourceFileError(str(path), f"expected a <branches> feed, found <{root.tag}>")
    return [r for branch in root.iter("branch") for r in branch_records(branch, observed_at)]


class MaRmvXmlKind(FeedKind):
    kind = "ma_rmv_xml"
    entities = ("wait_observations",)
    reads = {
        "wait_observations": Reads(
            suffixed((".xml",)), mapped(lambda kind, path: read_branches(path, kind.observed_at), WAIT_COLUMNS)
        )
    }
