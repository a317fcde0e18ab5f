"""Planted costs and the apportionment rule, in closed form (integer cents).

The rule the marts must follow (docs/raw_tables.md), and how the demo plants it:

* only ledger rows with phase 'executed' count ('approved' rows are written too, as a trap);
* a direct channel cost centre (service_id and channel set) belongs to that service and
  channel: the demo books c[s,ch] x V[s,ch,y] (unit cost x completed transactions), split
  into personnel and operating rows;
* in person also carries a wait-improvement programme: P[s] x (wait at the anchor year -
  wait in year y), so the year-on-year change of the in-person cost is P[s] x minutes of mean
  wait removed, i.e. the cost per minute of wait reduced is exactly P[s];
* a service-level cost (service_id set, channel null) is apportioned to the service's
  channels by share of its transactions: the demo books o[s] x N[s,y], so every channel
  receives o[s] per transaction;
* a shared cost centre (service_id null) is apportioned to services by each service's share
  of that channel's transactions: SHARED-IT (online), SHARED-CONTACT-CENTRE (phone),
  SHARED-BUILDINGS (in_person). The demo books r[ch] x (all services' V[ch,y]), so every
  service receives r[ch] per transaction of that channel. In-person volumes are constant,
  so SHARED-BUILDINGS is constant across years.

Hence channel cost[s,ch,y] = (c[s,ch] + o[s] + r[ch]) x V[s,ch,y]
                              + [ch = in_person] x P[s] x (w[s,anchor] - w[s,y]).
"""

from __future__ import annotations

from ingestion.demo.parameters import DemoPlan, ServicePlan

CHANNELS = ("online", "phone", "in_person")


def direct_cents(sp: ServicePlan, year: int, channel: str) -> int:
    if channel not in sp.unit_cost_cents:
        return 0
    return sp.unit_cost_cents[channel] * sp.years[year].volume(channel)


def investment_cents(sp: ServicePlan, year: int) -> int:
    amount = sp.price_per_minute_cents * sp.wait_reduction(year)
    assert amount.denominator == 1, "P x wait reduction must be whole cents"
    return int(amount)


def overhead_cents(sp: ServicePlan, year: int) -> int:
    return sp.overhead_cents * sp.years[year].transactions


def shared_cents(plan: DemoPlan, year: int, channel: str) -> int:
    return plan.shared_rate_cents[channel] * plan.channel_volume(year, channel)


def channel_cost_cents(plan: DemoPlan, sp: ServicePlan, year: int, channel: str) -> int:
    """Cost of one service's channel after apportioning overhead and shared centres."""
    volume = sp.years[year].volume(channel)
    cost = direct_cents(sp, year, channel) + (sp.overhead_cents + plan.shared_rate_cents[channel]) * volume
    if channel == "in_person":
        cost += investment_cents(sp, year)
    return cost
