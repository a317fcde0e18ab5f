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


def test_on_a_terminal_a_bar_keeps_moving_while_the_step_output_goes_elsewhere(tmp_path):
    """On a terminal the lines come above a rich bar (n of N, elapsed); Dagster points
    descriptors 1 and 2 at a compute log while a step runs, and the bar still reaches the
    terminal through its own duplicate of the descriptor."""
    import os
    import pty

    master, slave = pty.openpty()
    terminal = os.fdopen(slave, "w", buffering=1)
    compute_log = open(tmp_path / "compute.log", "w")  # noqa: SIM115 - dup2 target
    saved = os.dup(slave)
    try:
        with steps(2, terminal):
            progress("  raw.services FY2025: loaded 12", done=True)
            os.dup2(compute_log.fileno(), slave)  # the step's capture, as Dagster's
            terminal.write("a step's own print\n")
            terminal.flush()
            progress("  dbt build done for FY2025", done=True)
            os.dup2(saved, slave)
        terminal.flush()
        shown = b""
        while True:
            import select

            ready, _, _ = select.select([master], [], [], 0.5)
            if not ready:
                break
            shown += os.read(master, 65536)
    finally:
        os.close(saved)
        terminal.close()
        compute_log.close()
        os.close(master)
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", shown.decode())
    assert "[1/2" in text and "raw.services FY2025: loaded 12" in text
    assert "[2/2" in text and "dbt build done for FY2025" in text  # written during the capture
    assert "━" in text and "2/2" in text  # the bar, finished
    assert "a step's own print" not in text  # that went to the compute log, as Dagster wants
    assert "a step's own print" in (tmp_path / "compute.log").read_text()


def test_a_status_updates_the_bar_only():
    """A step's status (dbt's n results) is for the bar; the plain lines leave it out."""
    out = io.StringIO()
    with steps(1, out):
        progress("  dbt build: 7 results", status=True)
        progress("  dbt build done", done=True)
    assert [re.sub(r"\s+\d+\.\ds\]", " s]", line) for line in out.getvalue().splitlines()] == [
        "[1/1 s]   dbt build done"
    ]


def test_on_a_terminal_the_run_output_goes_to_the_log_and_comes_back_after(tmp_path, capfd):
    """With a log, what the run writes to descriptors 1 and 2 (dbt's lines, Dagster's log)
    lands in the file while the bar shows on the terminal; after the block they are back."""
    import os
    import pty
    import select

    master, slave = pty.openpty()
    terminal = os.fdopen(slave, "w", buffering=1)
    log = tmp_path / "logs" / "refresh.log"
    try:
        with steps(1, terminal, log=log):
            os.write(1, b"1 of 193 START sql view model staging.stg_services\n")
            os.write(2, b"dagster - DEBUG - STEP_START\n")
            progress("  dbt build: 1 results", status=True)
            progress("  dbt build done", done=True)
        os.write(1, b"after the block\n")
        shown = b""
        while select.select([master], [], [], 0.5)[0]:
            shown += os.read(master, 65536)
    finally:
        terminal.close()
        os.close(master)
    assert log.read_text().splitlines() == [
        "1 of 193 START sql view model staging.stg_services",
        "dagster - DEBUG - STEP_START",
    ]
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", shown.decode())
    assert "[1/1" in text and "dbt build done" in text and "1 of 193" not in text
    assert "after the block" in capfd.readouterr().out
