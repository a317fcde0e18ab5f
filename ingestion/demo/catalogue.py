"""The demo's service catalogue: twelve services across the priority areas.

Why a fixed list: names, areas and standards are what a reader of the scorecard sees, so
they stay stable across seeds; only the planted numbers (volumes, costs, take-up ...)
are drawn from the seed. Base volumes are per fiscal year at size 1.
"""

from __future__ import annotations

from dataclasses import dataclass

ALL_CHANNELS = ("online", "phone", "in_person")


@dataclass(frozen=True)
class ServiceDef:
    service_id: str
    name: str
    priority_area: str
    cofog_division: str
    agency: str
    channels: tuple[str, ...]
    target_wait_minutes: float
    target_days_to_complete: float
    fee: float
    base_in_person: int
    base_phone: int
    base_survey: int

    @property
    def online(self) -> bool:
        return "online" in self.channels


def _svc(n, name, area, cofog, agency, wait, days, fee, inp, phone, survey, channels=ALL_CHANNELS):
    return ServiceDef(f"SVC-{n:03d}", name, area, cofog, agency, channels, wait, days, fee, inp, phone, survey)


# The clinic is the one service without an online channel (take-up 0 by construction).
SERVICES: tuple[ServiceDef, ...] = (
    _svc(
        1,
        "Community health clinic visits",
        "health",
        "07",
        "Public Health Agency",
        20,
        1,
        0,
        5600,
        1500,
        640,
        channels=("in_person", "phone"),
    ),
    _svc(2, "Immunization records", "health", "07", "Public Health Agency", 15, 3, 0, 2600, 900, 480),
    _svc(3, "Road and pothole repair", "public_works", "04", "Public Works Department", 15, 10, 0, 1300, 1400, 420),
    _svc(4, "Bulky waste collection", "public_works", "05", "Public Works Department", 15, 7, 20, 1600, 1100, 450),
    _svc(5, "School enrolment", "education", "09", "Education Services", 20, 5, 0, 3800, 800, 560),
    _svc(6, "Adult learning registration", "education", "09", "Education Services", 15, 5, 60, 2000, 600, 400),
    _svc(7, "Building permits", "permits", "06", "Planning and Permits Office", 25, 20, 250, 3300, 900, 520),
    _svc(8, "Residential parking permits", "permits", "04", "Planning and Permits Office", 15, 3, 45, 2900, 700, 500),
    _svc(9, "Business licence renewal", "licences", "04", "Licensing Office", 20, 5, 120, 3300, 800, 540),
    _svc(10, "Pet licences", "licences", "03", "Licensing Office", 15, 2, 35, 1600, 500, 400),
    _svc(11, "Housing assistance application", "social", "10", "Social Services", 30, 30, 0, 4600, 1200, 600),
    _svc(12, "Reduced-fare transit pass", "transport", "04", "Transit Authority", 15, 5, 25, 3400, 800, 520),
)

UNKNOWN_SERVICE_ID = "SVC-999"
