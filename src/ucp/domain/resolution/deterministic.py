"""Deterministic resolution: records sharing an identifier are one person, within the rules."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ucp.domain.model import Identifier, RecordKey, ResolvableRecord
from ucp.domain.resolution.resolver import NO_CONSTRAINTS, Cluster, Constraints, Link


@dataclass(frozen=True, slots=True)
class IdentifierPolicy:
    """Rules for one identifier type: limits and blocked values (design.md §3)."""

    type: str
    max_per_profile: int | None = None
    priority: int = 100
    blocked: frozenset[str] = field(default_factory=frozenset)
    links: bool = True

    def may_link(self, value: str) -> bool:
        return self.links and value not in self.blocked


class _Groups:
    """Union–find over record keys that also tracks each group's identifier values by type."""

    def __init__(
        self,
        records: Sequence[ResolvableRecord],
        cannot_link: frozenset[tuple[RecordKey, RecordKey]],
    ) -> None:
        self.parent: dict[RecordKey, RecordKey] = {r.key: r.key for r in records}
        self.members: dict[RecordKey, set[RecordKey]] = {r.key: {r.key} for r in records}
        self.apart: dict[RecordKey, set[RecordKey]] = {}
        for a, b in cannot_link:
            self.apart.setdefault(a, set()).add(b)
            self.apart.setdefault(b, set()).add(a)
        self.values: dict[RecordKey, dict[str, set[str]]] = {}
        for r in records:
            by_type: dict[str, set[str]] = defaultdict(set)
            for ident in r.identifiers:
                by_type[ident.type].add(ident.value)
            self.values[r.key] = by_type

    def find(self, key: RecordKey) -> RecordKey:
        root = key
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[key] != root:
            self.parent[key], key = root, self.parent[key]
        return root

    def fits(self, a: RecordKey, b: RecordKey, limits: Mapping[str, int]) -> bool:
        va, vb = self.values[a], self.values[b]
        return self.allowed(a, b) and all(
            len(va.get(t, set()) | vb.get(t, set())) <= n for t, n in limits.items()
        )

    def allowed(self, a: RecordKey, b: RecordKey) -> bool:
        """No cannot-link joins a member of group `a` to a member of group `b`."""
        small, large = sorted((self.members[a], self.members[b]), key=len)
        return not any(self.apart.get(k, set()) & large for k in small)

    def union(self, a: RecordKey, b: RecordKey) -> None:
        # the smaller key becomes the root so the structure does not depend on arrival order
        keep, gone = (a, b) if a < b else (b, a)
        self.parent[gone] = keep
        self.members[keep] |= self.members.pop(gone)
        for t, vals in self.values.pop(gone).items():
            self.values[keep].setdefault(t, set()).update(vals)


class DeterministicResolver:
    """Links records that share a linkable identifier value.

    Steward must-links join first; then identifier types in priority order (then type name, then
    value), records in key order, so the partition depends only on content and constraints. No
    join ever crosses a cannot-link. A join that would give a profile more
    distinct values of a type than its `max_per_profile` is refused: the records stay apart.
    """

    model_version = "deterministic-1"
    needs_attributes = False

    def __init__(self, policies: Mapping[str, IdentifierPolicy]) -> None:
        self.policies = dict(policies)
        self.limits = {
            t: p.max_per_profile for t, p in self.policies.items() if p.max_per_profile is not None
        }

    def linkable(self, identifier: Identifier) -> bool:
        policy = self.policies.get(identifier.type)
        return policy is not None and policy.may_link(identifier.value)

    def _order(self, identifier: Identifier) -> tuple[int, str, str]:
        return (self.policies[identifier.type].priority, identifier.type, identifier.value)

    def cluster(
        self, records: Sequence[ResolvableRecord], constraints: Constraints = NO_CONSTRAINTS
    ) -> list[Cluster]:
        constraints = constraints.restricted_to({r.key for r in records})
        groups = _Groups(records, constraints.cannot_link)
        links: dict[RecordKey, list[Link]] = defaultdict(list)
        # steward must-links first: they override identifier limits but never a cannot-link
        for a, b in sorted(constraints.must_link):
            ra, rb = groups.find(a), groups.find(b)
            if ra != rb and groups.allowed(ra, rb):
                groups.union(ra, rb)
                links[a].append(Link(a, b, "manual", None, {"constraint": "must_link"}))
        holders: dict[Identifier, list[RecordKey]] = defaultdict(list)
        for r in records:
            for ident in set(r.identifiers):
                if self.linkable(ident):
                    holders[ident].append(r.key)
        for ident in sorted(holders, key=self._order):
            holding = sorted(holders[ident])
            anchor = holding[0]
            for other in holding[1:]:
                ra, rb = groups.find(anchor), groups.find(other)
                if ra == rb or not groups.fits(ra, rb, self.limits):
                    continue
                groups.union(ra, rb)
                links[anchor].append(Link(anchor, other, "identifier", None, {"type": ident.type}))
        members: dict[RecordKey, set[RecordKey]] = defaultdict(set)
        for r in records:
            members[groups.find(r.key)].add(r.key)
        clusters = []
        for root in sorted(members):
            keys = members[root]
            cluster_links = tuple(
                link for k in sorted(keys) for link in links.get(k, ()) if link.b in keys
            )
            clusters.append(Cluster(frozenset(keys), cluster_links))
        return clusters
