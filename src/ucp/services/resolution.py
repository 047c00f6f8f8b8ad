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
from ucp.domain.resolution import DeterministicResolver, IdentifierPolicy, Resolver, assign_profiles
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
    batch: int = 5000,
) -> ResolveReport:
    """Batch: re-cluster every record in the store, component group by component group."""
    with store.read() as tx:
        pending = tx.all_record_ids()
    total, done, touched, changes = len(pending), 0, 0, 0
    resolved: set[int] = set()
    while pending:
        seed = [rid for rid in pending[:batch] if rid not in resolved]
        pending = pending[batch:]
        if not seed:
            continue
        with store.write() as tx:
            component = tx.component(seed)
            report = resolve_touched(tx, resolver, component)
        resolved |= component
        done = len(resolved)
        touched += report.profiles_touched
        changes += report.changes
        if progress:
            progress(done, total)
    return ResolveReport(records=total, profiles_touched=touched, changes=changes)
