"""Who answers for each asset group, shown as its owners in the Dagster UI: the data
platform for what is loaded into the lake, the analysts for the models and what is
published from them. Teams, not people: the deployment maps them onto its own."""

DATA_PLATFORM = ["team:data-platform"]
ANALYTICS = ["team:analytics"]

GROUP_OWNERS = {
    "raw": DATA_PLATFORM,
    "reference": DATA_PLATFORM,
    "staging": ANALYTICS,
    "intermediate": ANALYTICS,
    "marts": ANALYTICS,
    "report": ANALYTICS,
    "serving": DATA_PLATFORM,
}


def owners_of(group: str) -> list[str]:
    return GROUP_OWNERS.get(group, ANALYTICS)
