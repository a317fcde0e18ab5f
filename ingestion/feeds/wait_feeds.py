"""What the queue and wait-time feeds share: clock readings as minutes, the snapshot time a
feed without one takes from its file name, and the canonical columns of `wait_observations`.

The pure parsers raise ValueError on text they cannot read; the sources then hand the
text on as it came, so the contract quarantines that one row with the value beside the
reason instead of a guess being loaded.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from ingestion.errors import SourceFileError
from ingestion.feeds.base import computed_columns

# canonical column -> record key (keys starting with "_" are not kept as extra columns)
WAIT_COLUMNS = computed_columns("wait_observations")

_HH_MM = re.compile(r"(\d{1,3}):([0-5]\d)")
_HH_MM_SS = re.compile(r"(\d{1,3}):([0-5]\d):([0-5]\d)")


def hh_mm_minutes(text: str | None) -> float | None:
    """'01:27' -> 87.0: hours and minutes, as the CA DMV feed writes its times (the
    feed's own minute list confirms the unit, see docs/sources_waits_web.md). Blank -> None."""
    if text is None or not text.strip():
        return None
    m = _HH_MM.fullmatch(text.strip())
    if m is None:
        raise ValueError(f"{text!r} is not hh:mm")
    return int(m[1]) * 60.0 + int(m[2])


def hh_mm_ss_minutes(text: str | None) -> float | None:
    """'00:02:18' -> 2.3: hours, minutes and seconds, as the MA RMV feed writes waits."""
    if text is None or not text.strip():
        return None
    m = _HH_MM_SS.fullmatch(text.strip())
    if m is None:
        raise ValueError(f"{text!r} is not hh:mm:ss")
    return int(m[1]) * 60.0 + int(m[2]) + int(m[3]) / 60.0


def minutes_or_text(parse, text: str | None) -> str | None:
    """The minutes as text for the contract, or the text itself when it cannot be read
    (the contract then quarantines the row: 'wait_minutes value ... cannot be read')."""
    try:
        value = parse(text)
    except ValueError:
        return text
    return None if value is None else repr(value)


# 2018-12-10T13-13, 2018-12-10_13:13:43, 2018-12-10 1313, 20181210T131343
_NAME_TIME = re.compile(
    r"(?<!\d)(\d{4})-(\d{2})-(\d{2})[T_ ](\d{2})[-:h]?(\d{2})(?:[-:]?(\d{2}))?(?!\d)"
    r"|(?<!\d)(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})?(?!\d)"
)


def time_in_name(name: str) -> dt.datetime | None:
    """The date and time written in a file name (a saved snapshot), or None."""
    m = _NAME_TIME.search(name)
    if m is None:
        return None
    parts = m.groups()[:6] if m[1] else m.groups()[6:]
    year, month, day, hour, minute = (int(p) for p in parts[:5])
    second = int(parts[5]) if parts[5] else 0
    try:
        return dt.datetime(year, month, day, hour, minute, second)
    except ValueError:
        return None


def snapshot_time(path: Path, stated: dt.datetime | None = None) -> dt.datetime:
    """When a feed without a timestamp of its own was fetched: the time in its file name.

    Guessing (the file's modification time, the time of the ingest) would date a copied
    or late-loaded snapshot wrongly and file it under the wrong fiscal year."""
    moment = time_in_name(path.name) or stated
    if moment is None:
        raise SourceFileError(
            str(path),
            "the feed carries no observation time; state the local time it was fetched "
            "(civic ingest --observed-at 2018-12-10T13:15) or put it in the file name, "
            f"e.g. {path.stem}_2018-12-10T13-15{path.suffix}",
        )
    return moment
