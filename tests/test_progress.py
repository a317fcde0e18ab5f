"""Progress of a refresh (orchestration/progress.py): steps n of N with the elapsed time,
plain lines when piped, a rich progress bar on a terminal; a tool's own output (dbt's log)
through the same display."""

from __future__ import annotations

import io
import re

from orchestration.progress import progress, steps, tool_output


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_piped_steps_are_plain_lines_with_n_of_n_and_elapsed():
    out = io.StringIO()
    with steps(3, out):
        progress("  raw.services FY2025: loading")
        progress("  raw.services FY2025: loaded 12", done=True)
        with tool_output():
            print("1 of 169 OK created model")
        progress("  dbt build done", done=True)
        progress("  published", done=True)
        progress("  a feed's load nobody counted", done=True)  # N grows rather than n passing it
    lines = out.getvalue().splitlines()
    assert [re.sub(r"\s+\d+\.\ds\]", " s]", line) for line in lines] == [
        "[0/3 s]   raw.services FY2025: loading",
        "[1/3 s]   raw.services FY2025: loaded 12",
        "1 of 169 OK created model",
        "[2/3 s]   dbt build done",
        "[3/3 s]   published",
        "[4/4 s]   a feed's load nobody counted",
    ]


def test_on_a_terminal_messages_scroll_above_a_bar_and_tool_lines_stay_on_it():
    out = _Terminal()
    with steps(2, out):
        progress("  raw.services FY2025: loaded 12", done=True)
        with tool_output():
            print("1 of 169 OK created model")
    text = out.getvalue()
    assert "raw.services FY2025: loaded 12" in text
    assert "1/2" in text  # the bar's count
    assert "1 of 169 OK created model\n" not in text  # on the bar, not a line of its own


def test_without_a_display_tool_output_is_left_alone(capsys):
    with tool_output():
        print("dbt line")
    assert capsys.readouterr().out == "dbt line\n"
