"""Fiscal-year labels as published ("2023-2024", "2015-16", "FY2016") -> the year they end in.

Our fiscal years are named by the calendar year in which they end (contracts.fiscal_year),
so Canada's `2023-2024` (April 2023 - March 2024) is 2024 and Australia's `2015-16`
(July 2015 - June 2016) is 2016. A plain year names itself.
"""

from __future__ import annotations

import re

_SPAN = re.compile(r"^(?:FY\s*)?(\d{4})\s*[-/\u2013]\s*(\d{2}|\d{4})$", re.IGNORECASE)
_YEAR = re.compile(r"^(?:FY\s*)?(\d{4})$", re.IGNORECASE)


def fiscal_year_end(label: object) -> int | None:
    """The year a fiscal-year label ends in; None when the text is not such a label
    (a span must cover exactly one year: "2023-2025" is not a fiscal year)."""
    if label is None:
        return None
    text = str(label).strip()
    single = _YEAR.match(text)
    if single:
        return int(single.group(1))
    span = _SPAN.match(text)
    if not span:
        return None
    start, end_text = int(span.group(1)), span.group(2)
    if len(end_text) == 2:
        end = start // 100 * 100 + int(end_text)
        if end < start:  # 1999-00
            end += 100
    else:
        end = int(end_text)
    return end if end == start + 1 else None
