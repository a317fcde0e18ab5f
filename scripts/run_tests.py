"""The test suite on every core: one lane a core, each running pytest on one test file
after another from a shared queue, longest first (most of a test's time is one
single-threaded process: Dagster, dbt, SeaweedFS, so files in parallel use the cores where
one pytest could not).

The files that share the session's demo lake (the `demo_build` fixture of tests/conftest.py)
run first, in one pytest session in name order on the first lane, as that fixture needs
(the files that change the lake sort after those that only read it). Every other file is
its own pytest session: no state shared between files, and a slow file never waits for
another. The order comes from `tests/.durations` (seconds per file, written by the last
full run: `--write-durations`); a file not in it goes first.

Each file's output is shown when it ends; then one summary line. Exit 0 only when every
session passed. Usage: python scripts/run_tests.py [--lanes N] [--write-durations] [pytest args]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DURATIONS = REPO / "tests" / ".durations"
GROUP_SECONDS = 45.0


def demo_lake_files(files: list[Path]) -> list[Path]:
    return [f for f in files if "demo_build" in f.read_text()]


def queue_order(files: list[Path], durations: dict[str, float]) -> list[Path]:
    """Longest first; files without a recorded duration before all (they may be long)."""
    return sorted(files, key=lambda f: (f.name in durations, -durations.get(f.name, 0.0), f.name))


def counts(junit: Path) -> dict[str, int]:
    """passed / failed / errors / skipped of one session's junit file."""
    if not junit.exists():
        return {}
    suite = ET.parse(junit).getroot()
    suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
    if suite is None:
        return {}
    n = {k: int(suite.get(k, 0)) for k in ("tests", "failures", "errors", "skipped")}
    return {
        "passed": n["tests"] - n["failures"] - n["errors"] - n["skipped"],
        "failed": n["failures"],
        "errors": n["errors"],
        "skipped": n["skipped"],
    }


def file_seconds(junit: Path) -> dict[str, float]:
    """Seconds per test file from one session's junit file (the sum of its test cases)."""
    seconds: dict[str, float] = {}
    if not junit.exists():
        return seconds
    for case in ET.parse(junit).getroot().iter("testcase"):
        name = (case.get("classname") or "").split(".")
        stem = next((part for part in name if part.startswith("test_")), None)
        if stem:
            seconds[f"{stem}.py"] = seconds.get(f"{stem}.py", 0.0) + float(case.get("time", 0))
    return seconds


class Suite:
    def __init__(self, queue: list[Path], durations: dict[str, float], base: Path, pytest_args: list[str]) -> None:
        self.queue, self.durations, self.base, self.pytest_args = list(queue), durations, base, pytest_args
        self.lock = threading.Lock()
        self.started = 0
        self.ran: list[Path] = []
        self.results: list[tuple[str, int, dict[str, int], float]] = []
        self.seconds: dict[str, float] = {}

    def take(self) -> list[Path]:
        """The next file, with the short ones after it up to GROUP_SECONDS together (each
        pytest start costs ~2 s of imports)."""
        with self.lock:
            taken: list[Path] = []
            while self.queue and (not taken or self.expected(taken + self.queue[:1]) <= GROUP_SECONDS):
                taken.append(self.queue.pop(0))
            return taken

    def expected(self, files: list[Path]) -> float:
        return sum(self.durations.get(f.name, GROUP_SECONDS + 1) for f in files)

    def session(self, name: str, files: list[Path]) -> None:
        with self.lock:
            self.started += 1
            work = self.base / f"session-{self.started:02d}"  # not the names: a path for SeaweedFS
        work.mkdir(parents=True)
        junit = work / "junit.xml"
        command = [sys.executable, "-m", "pytest", f"--basetemp={work / 'tmp'}", f"--junitxml={junit}", "--durations=5"]
        started = time.perf_counter()
        done = subprocess.run(
            [*command, *self.pytest_args, *map(str, files)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        took = time.perf_counter() - started
        found = counts(junit)
        with self.lock:
            print(f"==== {name}: exit {done.returncode} in {took:.0f}s ====", flush=True)
            print(done.stdout.rstrip(), flush=True)
            self.results.append((name, done.returncode, found, took))
            self.ran.extend(files)
            self.seconds.update(file_seconds(junit))

    def lane(self, first: list[Path]) -> None:
        if first:
            self.session(f"demo-lake ({len(first)} files)", first)
        while files := self.take():
            self.session(" ".join(f.name for f in files), files)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lanes", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--write-durations", action="store_true", help="record each file's seconds in tests/.durations")
    args, pytest_args = parser.parse_known_args()
    files = sorted((REPO / "tests").glob("test_*.py"))
    demo = demo_lake_files(files)
    durations = json.loads(DURATIONS.read_text()) if DURATIONS.exists() else {}
    queue = queue_order([f for f in files if f not in demo], durations)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="civic-tests.") as tmp:
        suite = Suite(queue, durations, Path(tmp), pytest_args)
        lanes = [threading.Thread(target=suite.lane, args=(demo if i == 0 else [],)) for i in range(max(1, args.lanes))]
        for t in lanes:
            t.start()
        for t in lanes:
            t.join()
    total = {k: sum(r[2].get(k, 0) for r in suite.results) for k in ("passed", "failed", "errors", "skipped")}
    # exit 5: pytest found no test (a file whose tests were all deselected by -k)
    broken = [name for name, rc, _, _ in suite.results if rc not in (0, 5)]
    # a lane that broke down (its thread's traceback is above) must not pass the suite
    broken += [f"{f.name} (not run)" for f in files if f not in suite.ran]
    if args.write_durations:
        merged = {**durations, **{k: round(v, 1) for k, v in suite.seconds.items()}}
        DURATIONS.write_text(json.dumps(dict(sorted(merged.items())), indent=1) + "\n")
    print(
        f"==== {len(suite.results)} sessions on {len(lanes)} lanes in {time.perf_counter() - started:.0f}s: "
        f"{total['passed']} passed, {total['failed']} failed, {total['errors']} errors, {total['skipped']} skipped"
        + (f"; not passed: {', '.join(broken)}" if broken else "")
        + " ===="
    )
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
