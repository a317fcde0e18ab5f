"""Which columns hold personal data, and how each is protected before anything else sees it.

A column is personal when it can single out a person: an identifier (a respondent
number, an account), contact details, free text that may name someone, an exact address
or coordinates. Each entity declares its personal columns next to the columns
themselves: a canonical column by `contracts.models.personal(...)` on its Field, a source
column a feed is known to deliver beyond the model by `Entity.source_personal`.
`ingestion.pseudonymise` applies the protection to every batch before the contracts.
"""

from __future__ import annotations

from dataclasses import dataclass

# The Field metadata key holding a column's Protection.
PERSONAL = "personal"


@dataclass(frozen=True)
class Protection:
    """How one personal column is protected at ingestion.

    - `pseudonym`: the value is replaced by a keyed HMAC-SHA256 under the key of its
      `domain` (`p<key version>:<hex>`); equal values stay equal, so counts of distinct
      people and joins within a domain still work, but nobody without the key can
      recompute or reverse it.
    - `grid`: a coordinate is rounded to a grid cell of `decimals` decimal degrees
      (2: about 1.1 km), which is as exact as any mart needs.
    - `drop`: the column is removed (free text or media that may name or show a person).
    """

    kind: str
    domain: str | None = None
    decimals: int = 2

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown protection {self.kind!r}; known: {', '.join(KINDS)}")
        if (self.kind == "pseudonym") != (self.domain is not None):
            raise ValueError("a pseudonym takes a domain, and only a pseudonym does")

    @property
    def spec(self) -> str:
        """As the processing register writes it: `pseudonym:<domain>`, `grid`, `drop`."""
        return f"pseudonym:{self.domain}" if self.kind == "pseudonym" else self.kind

    def describe(self) -> str:
        if self.kind == "pseudonym":
            return f"pseudonymised (keyed HMAC-SHA256, domain {self.domain})"
        if self.kind == "grid":
            return f"coarsened to a {self.decimals}-decimal grid cell"
        return "dropped at ingestion"


KINDS = ("pseudonym", "grid", "drop")


def pseudonym(domain: str) -> Protection:
    return Protection("pseudonym", domain)


GRID = Protection("grid")
DROP = Protection("drop")
