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


class Resolver(Protocol):
    """Partition one connected component of records into persons.

    Must be a pure function of the records' content (never their arrival order or database ids),
    so that batch and incremental resolution agree (sequence neutrality).
    """

    model_version: str

    def cluster(self, records: Sequence[ResolvableRecord]) -> list[Cluster]: ...
