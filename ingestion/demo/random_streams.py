"""Counter-based random numbers: a draw is a pure function of (seed, stream, row index).

Why counter-based rather than a stateful generator: a row's draws depend only on its own
index, never on chunk size or generation order, so the files are reproducible at any size
and both members of a planted pair can draw the same number. The mixer is SplitMix64 on
polars UInt64 columns (wrapping arithmetic, vectorised; no numpy needed).
"""

from __future__ import annotations

import hashlib

import polars as pl

_U64 = pl.UInt64
_GOLDEN = 0x9E3779B97F4A7C15
_ROUNDS = ((30, 0xBF58476D1CE4E5B9), (27, 0x94D049BB133111EB), (31, None))


def stream_key(seed: int, *labels: object) -> int:
    """A 64-bit key for one named stream (e.g. seed, 'queue_events', 2024, 'wait')."""
    text = repr((int(seed), *labels)).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "little")


def _u64(value: int) -> pl.Expr:
    return pl.lit(value, dtype=_U64)


def with_uniforms(frame: pl.DataFrame, index: str, keys: dict[str, int]) -> pl.DataFrame:
    """Add one Float64 column in [0, 1) per entry of `keys`, drawn at row index `index`.

    Stages are separate `with_columns` so the hash is not expanded into a tree that
    re-evaluates shared sub-expressions.
    """
    if not keys:
        return frame
    tmp = {name: f"__h_{name}" for name in keys}
    lf = frame.lazy().with_columns(
        [(pl.col(index).cast(_U64) * _u64(_GOLDEN) + _u64(key)).alias(tmp[n]) for n, key in keys.items()]
    )
    for shift, mult in _ROUNDS:
        exprs = []
        for name in keys:
            c = pl.col(tmp[name])
            e = c.xor(c // _u64(1 << shift))
            if mult is not None:
                e = e * _u64(mult)
            exprs.append(e.alias(tmp[name]))
        lf = lf.with_columns(exprs)
    lf = lf.with_columns(
        [((pl.col(tmp[n]) // _u64(1 << 11)).cast(pl.Float64) * (1.0 / (1 << 53))).alias(n) for n in keys]
    ).drop(list(tmp.values()))
    return lf.collect()
