"""The cross-batch unique_id rule: hashed ids of earlier batches, every hash hit confirmed.

Expected outcomes are worked out here with a plain Python set over the same ids, not by
the code under test.
"""

from __future__ import annotations

import random

import numpy as np
import polars as pl
import pytest

from contracts import seen_ids
from contracts.entities import QUEUE_EVENTS
from contracts.rules import LoadContext
from contracts.seen_ids import SeenIds
from contracts.validate import BatchValidator


def _batch(ids: list[str | None], service: str = "S1") -> pl.DataFrame:
    n = len(ids)
    return pl.DataFrame(
        {
            "ticket_id": pl.Series(ids, dtype=pl.String),
            "service_id": [service] * n,
            "issued_at": ["2024-03-01T09:00:00"] * n,
            "called_at": ["2024-03-01T09:10:00"] * n,
            "outcome": ["served"] * n,
        }
    )


def _load(batches: list[pl.DataFrame]) -> tuple[list[list[str]], list[pl.DataFrame]]:
    validator = BatchValidator(QUEUE_EVENTS, LoadContext(2024, known_services=frozenset({"S1"})))
    valid, rejects = zip(*(validator.validate(b) for b in batches))
    return [v["ticket_id"].to_list() for v in valid], list(rejects)


def _planted_batches(rng: random.Random) -> list[list[str | None]]:
    """Ten batches of fresh ids, each later batch repeating ids of earlier ones."""
    batches: list[list[str | None]] = []
    issued: list[str] = []
    for b in range(10):
        fresh = [f"TKT-{b:02d}-{i:05d}" for i in range(400 + 37 * b)]
        repeats = rng.sample(issued, min(len(issued), 25))  # from any earlier batch, first included
        ids: list[str | None] = fresh + repeats + [None, fresh[0]]  # a null and an in-batch repeat
        rng.shuffle(ids)
        batches.append(ids)
        issued.extend(fresh)
    return batches


def _expected(batches: list[list[str | None]]) -> list[list[str]]:
    seen: set[str] = set()
    out = []
    for ids in batches:
        kept = [i for i in ids if i is not None and i not in seen and not seen.add(i)]
        out.append(kept)
    return out


def test_planted_duplicates_across_batches_are_quarantined_as_unique_id():
    batches = _planted_batches(random.Random(6))
    kept, rejects = _load([_batch(ids) for ids in batches])
    assert kept == _expected(batches)
    for ids, batch_rejects, batch_kept in zip(batches, rejects, kept):
        rules = batch_rejects["rule"].to_list()
        assert len(rules) == len(ids) - len(batch_kept)
        assert rules.count("not_nullable") == 1
        assert rules.count("unique_id") == len(rules) - 1
    later = pl.concat(rejects[1:]).filter(pl.col("rule") == "unique_id")
    assert later["message"].str.contains("repeats an earlier row of this load").all()


def test_an_id_rejected_for_another_reason_does_not_count_as_seen():
    kept, rejects = _load([_batch(["A", "B"]), _batch(["C"], service="S999"), _batch(["C", "A"])])
    assert kept == [["A", "B"], [], ["C"]]
    assert rejects[1]["rule"].to_list() == ["known_service"]
    assert rejects[2]["rule"].to_list() == ["unique_id"]


def _few_hashes(monkeypatch, values: int) -> None:
    """Hash every id into one of `values` hashes spread over the 64-bit range."""
    real = seen_ids.id_hashes
    spread = np.uint64(0xFFFF_FFFF_FFFF_FFFF // values)
    monkeypatch.setattr(seen_ids, "id_hashes", lambda ids: (real(ids) % np.uint64(values)) * spread)


@pytest.mark.parametrize("buckets", [1, 3])
def test_a_hash_collision_never_rejects_a_distinct_id(monkeypatch, buckets):
    """With every id hashed into 1 or 3 values, only the real repeats are rejected."""
    _few_hashes(monkeypatch, buckets)
    assert len(set(seen_ids.id_hashes(pl.Series(["x", "y", "z", "w"])).tolist())) <= buckets
    batches = [[f"T{b}-{i}" for i in range(60)] for b in range(6)]
    batches[3] += ["T0-5", "T2-59"]
    batches[5] += ["T3-0", "T0-5"]
    kept, rejects = _load([_batch(ids) for ids in batches])
    assert kept == [[f"T{b}-{i}" for i in range(60)] for b in range(6)]
    assert [r["rule"].to_list() for r in rejects] == [[], [], [], ["unique_id"] * 2, [], ["unique_id"] * 2]


@pytest.mark.parametrize("modulus", [None, 5])
def test_repeats_match_a_python_set_over_many_merged_batches(monkeypatch, modulus):
    if modulus:
        _few_hashes(monkeypatch, modulus)
    rng = random.Random(modulus or 0)
    seen, reference = SeenIds(), set()
    for _ in range(40):  # enough batches for runs of several sizes to merge
        ids = [f"id{rng.randrange(6000)}" if rng.random() > 0.03 else None for _ in range(rng.randrange(0, 300))]
        in_batch: set[str] = set()
        expected = []
        for i in ids:
            expected.append(i is not None and (i in reference or i in in_batch))
            if i is not None:
                in_batch.add(i)
        got = seen.repeats(pl.Series(ids, dtype=pl.String))
        assert got.tolist() == expected
        accepted = [i for i, g in zip(ids, got) if i is not None and not g and rng.random() > 0.1]
        seen.add(pl.Series(accepted, dtype=pl.String))
        reference.update(accepted)
    assert len(seen) == len(reference)


def test_seen_finds_only_ids_of_earlier_adds_not_repeats_inside_the_batch():
    rng = random.Random(7)
    earlier = [f"id-{rng.randrange(10**9)}" for _ in range(3000)]
    seen = SeenIds()
    for start in range(0, len(earlier), 700):
        seen.add(pl.Series(earlier[start : start + 700]))
    probe = [*rng.sample(earlier, 50), *[f"new-{i}" for i in range(50)], "new-1", None]
    expected = [i is not None and i in set(earlier) for i in probe]
    assert seen.seen(pl.Series(probe, dtype=pl.String)).tolist() == expected
    assert not SeenIds().seen(pl.Series(["a", "a"])).any()


def test_unique_across_years_quarantines_an_id_another_year_holds():
    other = SeenIds()
    other.add(pl.Series(["T-2023-1"]))
    ctx = LoadContext(2024, known_services=frozenset({"S1"}), other_years_ids=other)
    valid, rejects = BatchValidator(QUEUE_EVENTS, ctx).validate(_batch(["T-2023-1", "T-2024-1"]))
    assert valid["ticket_id"].to_list() == ["T-2024-1"]
    assert rejects["rule"].to_list() == ["unique_across_years"]
    assert "already loaded for another fiscal year" in rejects["message"][0]
