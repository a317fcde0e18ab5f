"""Seeded demo data that plants known truths.

`generate_demo(landing_dir, years, size, seed, sizes)` writes the landing layout of
docs/raw_tables.md (one folder per entity and fiscal year) and `demo_truths.json`: the
volumes, take-up, completion, satisfaction, waits and apportioned costs per service and
year that a correct pipeline must reproduce, computed in closed form from the planted
parameters, plus the planted bad rows (about 0.5 %, each bad in one way) so row accounting
(received = loaded + quarantined) can be checked. `sizes` gives an entity its own size
factor (a benchmark mix); the ledger grows by booking each cost line as more entries.

Cost apportionment rule (details in costs.py): executed phase only; a service's costs with
channel null go to its channels by transaction share; shared centres SHARED-IT (online),
SHARED-CONTACT-CENTRE (phone) and SHARED-BUILDINGS (in_person) go to services by their share
of that channel's transactions.

Modules: parameters (the plan), costs (cost rule), truths, layout + pipeline + bad_rows +
writers (generic chunked row writing), one module per entity, generator (the entry point).
"""

from ingestion.demo.generator import generate_demo

__all__ = ["generate_demo"]
