"""Progress of a refresh (orchestration/progress.py): steps n of N with the elapsed time."""

from __future__ import annotations

import io
import re

from orchestration.progress import progress, steps


def test_steps_are_lines_with_n_of_n_and_elapsed():
    out = io.StringIO()
    with steps(3, out):
        progress("  raw.services FY2025: loading")
        progress("  raw.services FY2025: loaded 12", done=True)
        progress("  dbt build done", done=True)
        progress("  published", done=True)
        progress("  a feed's load nobody counted", done=True)  # N grows rather than n passing it
    lines = out.getvalue().splitlines()
    assert [re.sub(r"\s+\d+\.\ds\]", " s]", line) for line in lines] == [
        "[0/3 s]   raw.services FY2025: loading",
        "[1/3 s]   raw.services FY2025: loaded 12",
        "[2/3 s]   dbt build done",
        "[3/3 s]   published",
        "[4/4 s]   a feed's load nobody counted",
    ]
