"""Repetitions, summaries (min / median / max, percentiles) and peak-memory sampling."""

from __future__ import annotations

import contextlib
import statistics
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import psutil


def timed(acc: dict[str, float], name: str, fn: Callable) -> Callable:
    """`fn`, adding the seconds each call takes to `acc[name]` (also as a method)."""

    def wrapper(*args, **kwargs):
        t0 = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            acc[name] += time.perf_counter() - t0

    return wrapper


@contextlib.contextmanager
def patched(patches: list[tuple[object, str, object]]) -> Iterator[None]:
    """Set each (object, attribute, value) for the block, then put the originals back."""
    saved = [(obj, name, getattr(obj, name)) for obj, name, _ in patches]
    for obj, name, new in patches:
        setattr(obj, name, new)
    try:
        yield
    finally:
        for obj, name, old in saved:
            setattr(obj, name, old)


# A figure is repeated (at least 3 times by default) only while one run takes under this.
REPEAT_UNDER_SECONDS = 60.0


def summary(values: list[float]) -> dict:
    """min / median / max (and n, the raw values) of some samples."""
    vals = [float(v) for v in values if v is not None]
    if not vals:
        return {"n": 0, "min": None, "median": None, "max": None, "values": []}
    return {
        "n": len(vals),
        "min": min(vals),
        "median": statistics.median(vals),
        "max": max(vals),
        "values": [round(v, 6) for v in vals],
    }


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank-interpolated percentile (q in 0..100)."""
    vals = sorted(values)
    if not vals:
        return None
    if len(vals) == 1:
        return vals[0]
    pos = (len(vals) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(vals) - 1)
    return vals[lo] + (vals[hi] - vals[lo]) * (pos - lo)


def repeat(run: Callable[[int], dict], reps: int, log: Callable[[str], None] = print, what: str = "") -> list[dict]:
    """Call `run(i)` up to `reps` times; stop repeating once a run took over a minute.

    Each run returns a dict with at least "seconds".
    """
    results: list[dict] = []
    for i in range(max(1, reps)):
        res = run(i)
        results.append(res)
        log(f"    {what} run {i + 1}/{reps}: {res['seconds']:.2f}s")
        if res["seconds"] > REPEAT_UNDER_SECONDS and i + 1 < reps:
            log(f"    {what}: a run takes over {REPEAT_UNDER_SECONDS:.0f}s, not repeated")
            break
    return results


@dataclass
class TreeRss:
    """Peak of the summed RSS of a process and all its descendants, sampled in a thread."""

    pid: int
    interval: float = 0.05
    peak_bytes: int = 0
    samples: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def _tree_rss(self) -> int:
        try:
            root = psutil.Process(self.pid)
            procs = [root, *root.children(recursive=True)]
        except psutil.Error:
            return 0
        total = 0
        for p in procs:
            try:
                total += p.memory_info().rss
            except psutil.Error:
                pass
        return total

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.peak_bytes = max(self.peak_bytes, self._tree_rss())
            self.samples += 1
            self._stop.wait(self.interval)

    def __enter__(self) -> TreeRss:
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join()


def run_measured(cmd: list[str], env: dict[str, str], cwd: str, timeout: float | None = None) -> dict:
    """Run a command; wall seconds, peak tree RSS, exit code and output."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    with TreeRss(proc.pid) as rss:
        out, _ = proc.communicate(timeout=timeout)
    took = time.perf_counter() - t0
    return {
        "seconds": took,
        "peak_rss_bytes": rss.peak_bytes,
        "rss_samples": rss.samples,
        "returncode": proc.returncode,
        "output": out,
    }
