"""The resolver protocol shared by every resolution engine."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ucp.domain.model import RecordKey, ResolvableRecord


@dataclass(frozen=True, slots=True)
class Link:
    """Why two records were joined: the edge a cluster was built from."""

    a: RecordKey
    b: RecordKey
    kind: str
    weight: float | None
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Cluster:
    """One person: the records joined and the links that joined them."""

    members: frozenset[RecordKey]
    links: tuple[Link, ...] = ()


@dataclass(frozen=True, slots=True)
class Constraints:
    """Steward decisions every resolution must respect (design.md §3, stewardship).

    `must_link` pairs end in one profile; `cannot_link` pairs never do. Pairs are unordered.
    """

    must_link: frozenset[tuple[RecordKey, RecordKey]] = frozenset()
    cannot_link: frozenset[tuple[RecordKey, RecordKey]] = frozenset()

    @staticmethod
    def pair(a: RecordKey, b: RecordKey) -> tuple[RecordKey, RecordKey]:
        return (a, b) if a <= b else (b, a)

    def restricted_to(self, keys: frozenset[RecordKey] | set[RecordKey]) -> Constraints:
        return Constraints(
            frozenset(p for p in self.must_link if p[0] in keys and p[1] in keys),
            frozenset(p for p in self.cannot_link if p[0] in keys and p[1] in keys),
        )


NO_CONSTRAINTS = Constraints()


class Resolver(Protocol):
    """Partition one connected component of records into persons.

    Must be a pure function of the records' content and the constraints (never their arrival
    order or database ids), so that batch and incremental resolution agree (sequence neutrality).
    """

    model_version: str

    def cluster(
        self, records: Sequence[ResolvableRecord], constraints: Constraints = NO_CONSTRAINTS
    ) -> list[Cluster]: ...
