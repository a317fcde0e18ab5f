"""The ids accepted by earlier batches of one load, for the cross-batch `unique_id` rule.

Why not a Series of the ids and `is_in`: that builds a hash set of every earlier id for
each batch, so a load costs O(n^2) (2 M ids 4.9 s, 20 M about 8 min). Here each accepted
id becomes one 64-bit key, its hash's top 32 bits above its position in the load, kept in
sorted runs that merge when the older is at most 8 times the newer (each key is merged
O(log n) times, by a sort that sees two sorted runs; fewer runs than a binary counter's
to probe per batch: 20 M ids 3.78 s -> 3.33 s in `python -m bench.seen_ids`). A run
indexes its keys by their top bits, so a batch is looked up with a few vectorised probes
per run: O(batch) work per batch, not O(load).
Repeats inside a batch are found from the same sorted hashes (cheaper than polars'
`is_first_distinct` on text).

The hash only narrows the search (a 20 M-id load has some 46,000 pairs of distinct ids
sharing 32 hash bits): every hit is confirmed against a 64-bit fingerprint of the earlier
id (found by its position), a second hash with other seeds. Two distinct ids are taken
for one only if both agree, about 1 in 2^96 per pair (~1e-14 for a 20 M-id load), and
such a row is quarantined with its reason, not lost. Repeats inside a batch are compared
as text. Keeping fingerprints instead of the ids costs 8 bytes an id instead of ~32 (at
20 M queue events, 160 MB instead of ~650 MB of the load's peak memory).
"""

from __future__ import annotations

import numpy as np
import polars as pl

_LOW = np.uint64(0xFFFF_FFFF)
_32 = np.uint64(32)
MAX_IDS = 1 << 32  # positions are 32-bit: a load of one entity holds at most this many ids


def id_hashes(ids: pl.Series) -> np.ndarray:
    """64-bit hashes of non-null ids (stable within one process, which is all a load needs)."""
    return ids.hash(seed=0).to_numpy().astype(np.uint64, copy=False)


def id_fingerprints(ids: pl.Series) -> np.ndarray:
    """A second 64-bit hash of the ids, with other seeds: confirms a hit of `id_hashes`."""
    return ids.hash(seed=0x9E3779B97F4A7C15).to_numpy().astype(np.uint64, copy=False)


class _Run:
    """Sorted keys (hash << 32 | position), indexed by the top bits of the keys."""

    WINDOW = 4  # keys read per needle at once; a fuller bucket is walked further

    def __init__(self, keys: np.ndarray):
        self.keys = keys
        self._starts: np.ndarray | None = None  # built on the first lookup (most runs merge first)

    def __len__(self) -> int:
        return self.keys.size

    def merged(self, other: _Run) -> _Run:
        keys = np.concatenate((self.keys, other.keys))
        keys.sort(kind="stable")  # timsort: two sorted runs merge in linear time
        return _Run(keys)

    def _index(self) -> tuple[np.ndarray, np.uint64]:
        """Where each bucket of keys (their top bits) starts: 1 or 2 keys per bucket."""
        bits = max(1, int(self.keys.size).bit_length() - 1)
        shift = np.uint64(64 - bits)
        if self._starts is None:
            starts = np.zeros((1 << bits) + 1, dtype=np.uint32)
            np.cumsum(np.bincount((self.keys >> shift).view(np.int64), minlength=1 << bits), out=starts[1:])
            self._starts = starts
        return self._starts, shift

    def matches(self, needles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(needle index, id position) for every key whose hash equals a needle's.

        `needles` are sorted keys (hash << 32 | anything): nearby needles then probe
        nearby memory.
        """
        starts, shift = self._index()
        top = (needles >> shift).view(np.int64)
        at = starts[top].astype(np.int64)
        size = starts[1:][top].astype(np.int64) - at
        wanted = needles >> _32
        # every key whose hash equals the needle's lies in the needle's bucket
        offsets = np.arange(self.WINDOW)
        inside = offsets < size[:, None]
        index = np.where(inside, at[:, None] + offsets, 0)
        needle, col = np.nonzero(((self.keys[index] >> _32) == wanted[:, None]) & inside)
        found_at = [index[needle, col]]
        hit_needle = [needle]
        over = np.flatnonzero(size > self.WINDOW)  # rare: walk the rest of a full bucket
        if over.size:
            extra = size[over] - self.WINDOW
            rest = (
                np.repeat(at[over] + self.WINDOW, extra)
                + np.arange(extra.sum())
                - np.repeat(np.cumsum(extra) - extra, extra)
            )
            owner = np.repeat(over, extra)
            same = (self.keys[rest] >> _32) == wanted[owner]
            hit_needle.append(owner[same])
            found_at.append(rest[same])
        positions = (self.keys[np.concatenate(found_at)] & _LOW).astype(np.int64)
        return np.concatenate(hit_needle), positions


def _keys(hashes: np.ndarray, low: np.ndarray) -> np.ndarray:
    """Sorted keys: the hashes' top 32 bits above 32-bit `low` values."""
    keys = (hashes & ~_LOW) | low.astype(np.uint64)
    keys.sort()
    return keys


class SeenIds:
    """Accepted ids of earlier batches of one load."""

    def __init__(self) -> None:
        self._runs: list[_Run] = []  # sizes decrease along the list
        self._prints = np.empty(0, dtype=np.uint64)  # fingerprint of the id at each position
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def add(self, ids: pl.Series) -> None:
        """Remember the ids a batch accepted (nulls ignored; unique within the batch)."""
        ids = ids.drop_nulls().cast(pl.String)
        if ids.len() == 0:
            return
        if self._count + ids.len() > MAX_IDS:
            raise OverflowError(f"one load holds at most {MAX_IDS:,} ids; split the load")
        positions = np.arange(self._count, self._count + ids.len(), dtype=np.uint64)
        self._runs.append(_Run(_keys(id_hashes(ids), positions)))
        end = self._count + ids.len()
        if end > self._prints.size:  # grow by doubling: amortised O(1) a id
            grown = np.empty(max(end, 2 * self._prints.size), dtype=np.uint64)
            grown[: self._count] = self._prints[: self._count]
            self._prints = grown
        self._prints[self._count : end] = id_fingerprints(ids)
        self._count = end
        while len(self._runs) > 1 and len(self._runs[-2]) <= 8 * len(self._runs[-1]):
            newer = self._runs.pop()
            self._runs.append(self._runs.pop().merged(newer))

    def repeats(self, ids: pl.Series) -> np.ndarray:
        """For each id, whether it repeats an earlier row: an id an earlier batch accepted,
        or an id of an earlier row of this batch (the first copy in a batch is not a repeat,
        whatever becomes of it). Null ids are never repeats."""
        found = np.zeros(ids.len(), dtype=bool)
        present = ids.is_not_null().to_numpy()
        if not present.any():
            return found
        ids = ids.cast(pl.String)
        needles = _keys(id_hashes(ids.filter(present)), np.flatnonzero(present))  # low bits: the row
        rows = (needles & _LOW).astype(np.intp)
        # In the batch: rows sharing a hash sit side by side; their ids decide.
        hashes = needles >> _32
        pair = hashes[1:] == hashes[:-1]
        if pair.any():
            shared = np.zeros(rows.size, dtype=bool)
            shared[1:] |= pair
            shared[:-1] |= pair
            candidates = np.sort(rows[shared])
            found[candidates[~ids.gather(candidates).is_first_distinct().to_numpy()]] = True
        found |= self._earlier(ids, needles, rows)
        return found

    def seen(self, ids: pl.Series) -> np.ndarray:
        """For each id, whether an earlier `add` holds it (repeats inside `ids` are not
        looked at). Null ids are never seen."""
        found = np.zeros(ids.len(), dtype=bool)
        present = ids.is_not_null().to_numpy()
        if not present.any() or not self._runs:
            return found
        ids = ids.cast(pl.String)
        needles = _keys(id_hashes(ids.filter(present)), np.flatnonzero(present))
        return self._earlier(ids, needles, (needles & _LOW).astype(np.intp))

    def _earlier(self, ids: pl.Series, needles: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Rows whose id an earlier batch accepted: every hash hit is checked against the
        fingerprint of the id it points at."""
        found = np.zeros(ids.len(), dtype=bool)
        where, positions = [], []
        for run in self._runs:
            needle, position = run.matches(needles)
            where.append(rows[needle])
            positions.append(position)
        hits = np.concatenate(where) if where else np.empty(0, np.intp)
        if hits.size:
            earlier = self._prints[np.concatenate(positions)]
            same = earlier == id_fingerprints(ids.gather(hits))
            found[hits[same]] = True
        return found
