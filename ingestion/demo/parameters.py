"""The planted parameters: every number the demo files are built from, as exact integers
and fractions.

Why a separate plan: the files and the truths are both derived from this plan, the truths
in closed form, so a test that counts the files checks the generator, and a mart that
reproduces the truths checks the pipeline.

Year-stable by design: a service's parameters come from (seed, service) and its yearly
numbers from (seed, service, year) plus the distance to ANCHOR_YEAR, so a year has the same
content whatever range it is generated in (landing 2026 later continues the 2021-2025 story).
Money is in integer cents.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from fractions import Fraction as F

from ingestion.demo.catalogue import SERVICES, ServiceDef

ANCHOR_YEAR = 2021
CURRENCY = "CAD"
TAKE_UP_LEVELS = (F(1, 5), F(1, 4), F(2, 5), F(1, 2), F(3, 5))  # t/(1-t) has denominator | 12
COMPLETION_LEVELS = (F(7, 10), F(3, 4), F(4, 5), F(17, 20), F(9, 10))
WAIT_FLOOR_MINUTES = 6
SATISFACTION_BASE = (0.06, 0.09, 0.18, 0.38, 0.29)


@dataclass(frozen=True)
class YearPlan:
    """One service in one fiscal year: the planted volumes and outcomes."""

    in_person: int  # served tickets
    transferred: int  # tickets called, then sent elsewhere
    no_show: int  # tickets never called
    phone: int  # closed phone requests
    open_requests: int
    online: int  # completed web sessions
    started: int  # non-bounce web sessions (completed + abandoned at details/payment)
    bounces: int  # sessions that stopped at 'start'
    take_up: F
    wait_minutes: F  # planted mean wait over called tickets
    satisfaction: tuple[int, int, int, int, int]  # counts for levels 1..5
    dont_know: int

    def volume(self, channel: str) -> int:
        return {"online": self.online, "phone": self.phone, "in_person": self.in_person}[channel]

    @property
    def transactions(self) -> int:
        return self.online + self.phone + self.in_person


@dataclass(frozen=True)
class ServicePlan:
    svc: ServiceDef
    unit_cost_cents: dict[str, int]  # direct cost per transaction, per channel
    overhead_cents: int  # service-level cost (channel null) per transaction
    price_per_minute_cents: int  # P: in-person spending per minute of mean wait reduced
    wait_anchor: F  # mean wait at ANCHOR_YEAR (the ceiling)
    wait_step: F  # minutes of mean wait removed per year
    personnel_share: F  # share of direct and overhead costs booked as personnel
    years: dict[int, YearPlan]

    def wait_reduction(self, year: int) -> F:
        """Minutes of mean wait removed since the anchor year (drives the investment)."""
        return self.wait_anchor - self.years[year].wait_minutes


@dataclass(frozen=True)
class DemoPlan:
    seed: int
    size: float
    years: tuple[int, ...]
    services: tuple[ServicePlan, ...]
    shared_rate_cents: dict[str, int]  # shared cost centre amount per transaction of its channel

    def channel_volume(self, year: int, channel: str) -> int:
        return sum(sp.years[year].volume(channel) for sp in self.services)


SHARED_CENTRES = {"online": "SHARED-IT", "phone": "SHARED-CONTACT-CENTRE", "in_person": "SHARED-BUILDINGS"}


def _largest_remainder(total: int, weights: list[float]) -> tuple[int, ...]:
    s = sum(weights)
    quotas = [total * w / s for w in weights]
    counts = [math.floor(q) for q in quotas]
    order = sorted(range(len(weights)), key=lambda i: (-(quotas[i] - counts[i]), i))
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return tuple(counts)


def _clamp(x: int, lo: int, hi: int) -> int:
    return max(lo, min(hi, x))


def _year_plan(
    svc: ServiceDef, yr: random.Random, year: int, size: float, in_person: int, phone: int, shape: dict
) -> YearPlan:
    k = year - ANCHOR_YEAR
    if svc.online:
        t = TAKE_UP_LEVELS[_clamp(shape["take_up_start"] + math.floor(shape["take_up_pace"] * k), 0, 4)]
        online = t / (1 - t) * (in_person + phone)
        assert online.denominator == 1, "in_person + phone must be a multiple of 12"
        online = int(online)
        cr = COMPLETION_LEVELS[_clamp(shape["completion_start"] + math.floor(k / 2), 0, 4)]
        started = max(online, round(online / cr))
    else:
        t, online, started = F(0), 0, 0
    bounces = round(started * yr.uniform(0.10, 0.20))
    wait = max(F(WAIT_FLOOR_MINUTES), shape["wait_anchor"] - shape["wait_step"] * max(0, k))
    answered = max(20, round(svc.base_survey * shape["survey_jitter"] * yr.uniform(0.9, 1.1) * size))
    weights = [
        max(0.2, 1 + 0.06 * max(0, k) * (level - 3)) * w for level, w in zip(range(1, 6), shape["satisfaction_weights"])
    ]
    return YearPlan(
        in_person=in_person,
        transferred=round(in_person * yr.uniform(0.02, 0.04)),
        no_show=round(in_person * yr.uniform(0.05, 0.09)),
        phone=phone,
        open_requests=round(phone * yr.uniform(0.03, 0.06)),
        online=online,
        started=started,
        bounces=bounces,
        take_up=t,
        wait_minutes=wait,
        satisfaction=_largest_remainder(answered, weights),
        dont_know=round(answered * yr.uniform(0.03, 0.06)),
    )


def _service_plan(svc: ServiceDef, seed: int, size: float, years: tuple[int, ...]) -> ServicePlan:
    rng = random.Random(f"{seed}/{svc.service_id}")
    bi = svc.base_in_person * rng.uniform(0.85, 1.15) * size
    bp = svc.base_phone * rng.uniform(0.85, 1.15) * size
    total = max(12, 12 * round((bi + bp) / 12))
    in_person = min(total - 1, max(1, round(total * bi / (bi + bp))))
    phone = total - in_person
    shape = {
        "take_up_start": rng.choice((0, 0, 1, 1, 2)),
        "take_up_pace": rng.choice((F(1, 2), F(3, 4), F(3, 4), F(1))),
        "completion_start": rng.choice((0, 1, 2)),
        "wait_anchor": F(rng.choice((20, 22, 24, 25, 26, 28, 30))),
        "wait_step": rng.choice((F(1), F(3, 2), F(2))),
        "survey_jitter": rng.uniform(0.85, 1.15),
        "satisfaction_weights": [w * rng.uniform(0.7, 1.3) for w in SATISFACTION_BASE],
    }
    unit = {"online": rng.randint(200, 600), "phone": rng.randint(800, 1500), "in_person": rng.randint(2000, 4000)}
    overhead = rng.randint(100, 400)
    price = max(2, 2 * round(rng.randint(300_000, 1_200_000) * size / 2))
    personnel = F(rng.randint(55, 75), 100)
    plans = {
        y: _year_plan(svc, random.Random(f"{seed}/{svc.service_id}/{y}"), y, size, in_person, phone, shape)
        for y in years
    }
    return ServicePlan(
        svc=svc,
        unit_cost_cents={ch: c for ch, c in unit.items() if ch in svc.channels},
        overhead_cents=overhead,
        price_per_minute_cents=price,
        wait_anchor=shape["wait_anchor"],
        wait_step=shape["wait_step"],
        personnel_share=personnel,
        years=plans,
    )


def build_plan(seed: int, size: float, years) -> DemoPlan:
    years = tuple(sorted(set(int(y) for y in years)))
    if not years:
        raise ValueError("no fiscal years to generate")
    if size <= 0:
        raise ValueError(f"size must be positive, got {size}")
    rng = random.Random(f"{seed}/shared")
    shared = {"online": rng.randint(50, 120), "phone": rng.randint(200, 400), "in_person": rng.randint(300, 600)}
    services = tuple(_service_plan(svc, seed, size, years) for svc in SERVICES)
    return DemoPlan(seed=seed, size=size, years=years, services=services, shared_rate_cents=shared)
