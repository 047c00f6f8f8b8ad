"""Resolution use cases: re-cluster the components a change touches, or everything (batch).

Both paths run the same pure resolver on whole connected components, so they give the same
partition whatever order records arrived in (design.md §3, sequence neutrality).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from ucp.config import UCPConfig
from ucp.domain.model import RecordKey
from ucp.domain.resolution import (
    Assignment,
    DeterministicResolver,
    IdentifierPolicy,
    Resolver,
    assign_profiles,
)
from ucp.services.identifiers import IdentifierStandardizer
from ucp.store.store import Store, StoreTx, new_profile_id, now


def build_resolver(config: UCPConfig) -> Resolver:
    """The resolver the configuration asks for."""
    normalize = IdentifierStandardizer(config)
    policies = {
        id_type: IdentifierPolicy(
            type=id_type,
            max_per_profile=rule.max_per_profile,
            priority=rule.priority,
            blocked=normalize.blocked_values(id_type),
            links=rule.links,
        )
        for id_type, rule in config.identifiers.items()
    }
    return DeterministicResolver(policies)


@dataclass(frozen=True, slots=True)
class ResolveReport:
    records: int
    profiles_touched: int
    changes: int


def resolve_touched(
    tx: StoreTx, resolver: Resolver, record_ids: Iterable[int], at: datetime | None = None
) -> ResolveReport:
    """Re-cluster every component that holds one of `record_ids` (the incremental path)."""
    at = at or now()
    component = tx.component(record_ids)
    if not component:
        return ResolveReport(0, 0, 0)
    loaded = tx.resolvable(component)
    records = [rec for rec, _ in loaded.values()]
    ids: dict[RecordKey, int] = {rec.key: rid for rid, (rec, _) in loaded.items()}
    previous = {rec.key: pid for rec, pid in loaded.values()}
    clusters = resolver.cluster(records, tx.constraints_for(ids))
    ages = tx.profile_ages(pid for pid in previous.values() if pid)
    assignment = assign_profiles([c.members for c in clusters], previous, ages, new_profile_id)
    tx.apply_assignment(ids, previous, assignment, clusters, resolver.model_version, at)
    return ResolveReport(
        records=len(records),
        profiles_touched=len(set(assignment.membership.values())),
        changes=len(assignment.changes),
    )


def resolve_all(
    store: Store,
    resolver: Resolver,
    progress: Callable[[int, int], None] | None = None,
    batch: int = 20_000,
) -> ResolveReport:
    """Batch: re-cluster every record in the store at once, then write what changed.

    The resolver sees the whole record set (a union of components), so the partition equals
    what the incremental path reaches component by component.
    """
    with store.read() as tx:
        loaded = list(tx.iter_resolvable(getattr(resolver, "needs_attributes", True)))
        constraints = tx.all_constraints()
        ages = tx.profile_ages({pid for _, _, pid in loaded if pid})
    total = len(loaded)
    if progress:
        progress(0, total)
    clusters = resolver.cluster([rec for _, rec, _ in loaded], constraints)
    ids = {rec.key: rid for rid, rec, _ in loaded}
    previous = {rec.key: pid for _, rec, pid in loaded}
    del loaded
    assignment = assign_profiles([c.members for c in clusters], previous, ages, new_profile_id)
    # write in slices of whole clusters so each transaction stays small
    at, done = now(), 0
    order = sorted(clusters, key=lambda c: min(c.members))
    for start in range(0, len(order), max(1, batch // 4)):
        part = order[start : start + max(1, batch // 4)]
        keys = {k for c in part for k in c.members}
        pids = {assignment.membership[k] for k in keys}
        olds = {previous[k] for k in keys if previous[k]}
        sliced = Assignment(
            membership={k: assignment.membership[k] for k in keys},
            aliases={a: b for a, b in assignment.aliases.items() if b in pids},
            removed=frozenset(p for p in assignment.removed if p in olds),
            changes=assignment.changes if start == 0 else (),
        )
        with store.write() as tx:
            tx.apply_assignment(
                {k: ids[k] for k in keys},
                {k: previous[k] for k in keys},
                sliced,
                part,
                resolver.model_version,
                at,
            )
        done += len(keys)
        if progress:
            progress(done, total)
    return ResolveReport(
        records=total,
        profiles_touched=len(set(assignment.membership.values())),
        changes=len(assignment.changes),
    )
