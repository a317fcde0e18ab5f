"""Service-id namespaces: the marts key services by `service_id` alone, so two feeds whose
catalogues use the same ids (Open311 code "172" and a national inventory's id "172")
would be counted as one service. A feed declares a prefix (`service_id_prefix`), applied
here to the `service_id` of every row it gives, before the contracts; and the catalogues
of two feeds are compared before a load, so a shared id is never mixed unannounced.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

SERVICE_ID = "service_id"  # the one service-id column of every canonical entity
SHOWN = 5  # shared ids a message names


def prefix_service_ids(batch: pa.RecordBatch, prefix: str | None) -> pa.RecordBatch:
    """The batch with `prefix` before each service id (trimmed); nulls and blanks stay as
    they are, so the contracts still see a missing id as missing."""
    if not prefix or SERVICE_ID not in batch.schema.names:
        return batch
    i = batch.schema.get_field_index(SERVICE_ID)
    ids = pc.utf8_trim_whitespace(pc.cast(batch.column(i), pa.string()))
    blank = pc.fill_null(pc.equal(ids, ""), True)
    prefixed = pc.if_else(blank, batch.column(i).cast(pa.string()), pc.binary_join_element_wise(prefix, ids, ""))
    return batch.set_column(i, pa.field(SERVICE_ID, pa.string()), prefixed)


def namespaced(
    batches: Iterable[tuple[str, pa.RecordBatch]], prefix: str | None
) -> Iterator[tuple[str, pa.RecordBatch]]:
    """(file, batch) pairs of a feed with its service ids in its namespace."""
    for path, batch in batches:
        yield path, prefix_service_ids(batch, prefix)


def catalogue_ids(batches: Iterable[tuple[str, pa.RecordBatch]]) -> set[str]:
    """The service ids a catalogue's batches hold (trimmed, blanks left out)."""
    ids: set[str] = set()
    for _path, batch in batches:
        if SERVICE_ID in batch.schema.names:
            column = pc.utf8_trim_whitespace(pc.cast(batch.column(SERVICE_ID), pa.string()))
            ids |= {s for s in column.to_pylist() if s}
    return ids


@dataclass(frozen=True)
class Collision:
    """Two feeds whose catalogues name the same services by the same ids."""

    first: str
    second: str
    shared: tuple[str, ...]  # sorted

    def describe(self) -> str:
        shown = ", ".join(repr(s) for s in self.shared[:SHOWN])
        more = f" and {len(self.shared) - SHOWN:,} more" if len(self.shared) > SHOWN else ""
        return f"feeds {self.first} and {self.second} share service ids {shown}{more}"


def shared_service_ids(catalogues: Mapping[str, tuple[str | None, set[str]]]) -> list[Collision]:
    """Pairs of feeds (name -> declared prefix, namespaced ids) sharing ids, in name order.

    An id that begins with a prefix either feed declared is a namespace shared on purpose
    (two feeds of one catalogue declare the same prefix) and is not a collision."""
    found: list[Collision] = []
    names = sorted(catalogues)
    for i, first in enumerate(names):
        for second in names[i + 1 :]:
            declared = tuple(p for p in (catalogues[first][0], catalogues[second][0]) if p)
            shared = catalogues[first][1] & catalogues[second][1]
            undeclared = sorted(s for s in shared if not (declared and s.startswith(declared)))
            if undeclared:
                found.append(Collision(first, second, tuple(undeclared)))
    return found
