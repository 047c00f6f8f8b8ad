"""Resolution use cases: re-cluster the components a change touches, or everything (batch).

Both paths run the same pure resolver on whole connected components, so they give the same
partition whatever order records arrived in (design.md §3, sequence neutrality).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from ucp.config import UCPConfig
from ucp.domain.model import RecordKey, ResolvableRecord
from ucp.domain.resolution import (
    Assignment,
    DeterministicResolver,
    IdentifierPolicy,
    assign_profiles,
)
from ucp.domain.resolution.blocking import block
from ucp.domain.resolution.blocking import blocking_keys as table_blocking_keys
from ucp.domain.resolution.fs_model import Model, prob_to_weight
from ucp.domain.resolution.probabilistic import ProbabilisticResolver
from ucp.domain.resolution.resolver import NO_CONSTRAINTS, Cluster, Constraints
from ucp.domain.resolution.scoring import PairScore, score_pairs
from ucp.domain.resolution.settings import HOUSEHOLD_SAFE, ResolutionSettings
from ucp.domain.resolution.table import RecordTable
from ucp.services.identifiers import IdentifierStandardizer
from ucp.store.store import Store, StoreTx, new_profile_id, now


def identifier_policies(config: UCPConfig) -> dict[str, IdentifierPolicy]:
    normalize = IdentifierStandardizer(config)
    return {
        id_type: IdentifierPolicy(
            type=id_type,
            max_per_profile=rule.max_per_profile,
            priority=rule.priority,
            blocked=normalize.blocked_values(id_type),
            links=rule.links,
        )
        for id_type, rule in config.identifiers.items()
    }


def resolution_settings(config: UCPConfig) -> ResolutionSettings:
    r = config.resolution
    return ResolutionSettings(
        auto=r.auto,
        review=r.review,
        max_block_size=r.max_block_size,
        hard_conflicts=HOUSEHOLD_SAFE if r.household_safe else (),
    )


class StoreResolver:
    """The configured engine, as the store paths use it.

    A `Resolver` (`cluster(records, constraints)`) that also gives blocking keys for the store's
    index, review candidates, and the connected component around changed records.
    """

    def __init__(self, config: UCPConfig, model: Model | None = None) -> None:
        self.policies = identifier_policies(config)
        self.probabilistic = config.resolution.engine == "probabilistic"
        self.unique_sources = frozenset(
            name for name, source in config.sources.items() if source.unique_per_person
        )
        self.settings = resolution_settings(config)
        self.model = model or Model.untrained(self.settings)
        self.deterministic = DeterministicResolver(self.policies)
        self.model_version = (
            f"fs-{self.model.version}" if self.probabilistic else self.deterministic.model_version
        )
        self.needs_attributes = self.probabilistic
        self._link_weight = prob_to_weight(self.settings.auto)

    def engine(self, constraints: Constraints = NO_CONSTRAINTS) -> ProbabilisticResolver:
        return ProbabilisticResolver(
            self.model,
            self.settings,
            self.policies,
            unique_sources=self.unique_sources,
            must_link=constraints.must_link,
            cannot_link=constraints.cannot_link,
        )

    def cluster(
        self, records: Sequence[ResolvableRecord], constraints: Constraints = NO_CONSTRAINTS
    ) -> list[Cluster]:
        return self.resolve(records, constraints)[0]

    def resolve(
        self, records: Sequence[ResolvableRecord], constraints: Constraints = NO_CONSTRAINTS
    ) -> tuple[list[Cluster], list[PairScore]]:
        """Clusters and review candidates of a set of whole components."""
        if not self.probabilistic:
            return self.deterministic.cluster(records, constraints), []
        engine = self.engine(constraints.restricted_to({r.key for r in records}))
        result = engine.resolve(records)
        return engine.clusters_of(result), engine.review_pairs(result)

    def blocking_keys(self, records: Sequence[ResolvableRecord]) -> list[list[str]]:
        """Each record's blocking keys (in the given order); none for the deterministic engine."""
        if not self.probabilistic or not records:
            return [[] for _ in records]
        table = RecordTable.from_records(records)
        row_of = {key: i for i, key in enumerate(table.keys)}
        rules = self.settings.all_blocking()
        return [table_blocking_keys(table, rules, row_of[r.key]) for r in records]

    def component(self, tx: StoreTx, seeds: Iterable[int]) -> set[int]:
        """Records connected to `seeds` by shared identifiers, must-links, or (probabilistic)
        blocked pairs scoring at or above the link threshold (`auto`).

        These are exactly the edges clustering builds its components from, so re-clustering
        this set gives the partition batch resolution gives. Review candidates are found among
        the records resolved together; a weak pair between two untouched components waits for
        the next batch run.
        """
        if not self.probabilistic:
            return tx.component(seeds)
        found = set(seeds)
        frontier = sorted(found)
        cache: dict[int, ResolvableRecord] = {}
        while frontier:
            linked = tx.identifier_neighbors(frontier) | tx.must_linked(frontier)
            blocked = tx.block_neighbors(frontier, self.settings.max_block_size) - found - linked
            fresh = linked - found
            if blocked:
                fresh |= self._scored_neighbors(tx, frontier, blocked, cache)
            found |= fresh
            frontier = sorted(fresh)
        return found

    def _scored_neighbors(
        self,
        tx: StoreTx,
        frontier: list[int],
        candidates: set[int],
        cache: dict[int, ResolvableRecord],
    ) -> set[int]:
        wanted = [rid for rid in [*frontier, *candidates] if rid not in cache]
        for rid, (record, _) in tx.resolvable(wanted).items():
            cache[rid] = record
        ids = [rid for rid in [*frontier, *sorted(candidates)] if rid in cache]
        records = [cache[rid] for rid in ids]
        table = RecordTable.from_records(records)
        rid_of = {rec.key: rid for rid, rec in zip(ids, records, strict=True)}
        rows = [rid_of[key] for key in table.keys]
        ia, ib, _ = block(table, self.settings.all_blocking(), self.settings.max_block_size)
        if not len(ia):
            return set()
        scored = score_pairs(self.model, table, ia, ib)
        strong = scored.weight >= self._link_weight
        inside = set(frontier)
        out: set[int] = set()
        for a, b in zip(ia[strong].tolist(), ib[strong].tolist(), strict=True):
            ra, rb = rows[a], rows[b]
            if ra in inside and rb in candidates:
                out.add(rb)
            elif rb in inside and ra in candidates:
                out.add(ra)
        return out


def build_resolver(config: UCPConfig, store: Store | StoreTx | None = None) -> StoreResolver:
    """The configured resolver, with the store's active trained model when there is one.

    Every path (ingest, batch, stewardship, erasure) must pass the store: a resolver without
    the trained model would cluster differently.
    """
    model = None
    if store is not None and config.resolution.engine == "probabilistic":
        if isinstance(store, StoreTx):
            row = store.active_model()
        else:
            with store.read() as tx:
                row = tx.active_model()
        if row is not None:
            model = Model.from_json(orjson.dumps(row["body"]).decode())
    return StoreResolver(config, model)


@dataclass(frozen=True, slots=True)
class ResolveReport:
    records: int
    profiles_touched: int
    changes: int


def resolve_touched(
    tx: StoreTx, resolver: StoreResolver, record_ids: Iterable[int], at: datetime | None = None
) -> ResolveReport:
    """Re-cluster every component that holds one of `record_ids` (the incremental path)."""
    at = at or now()
    component = resolver.component(tx, record_ids)
    if not component:
        return ResolveReport(0, 0, 0)
    loaded = tx.resolvable(component)
    records = [rec for rec, _ in loaded.values()]
    ids: dict[RecordKey, int] = {rec.key: rid for rid, (rec, _) in loaded.items()}
    previous = {rec.key: pid for rec, pid in loaded.values()}
    clusters, review = resolver.resolve(records, tx.constraints_for(ids))
    tx.replace_review_items(sorted(ids.values()), review_rows(review, ids, resolver), at)
    ages = tx.profile_ages(pid for pid in previous.values() if pid)
    assignment = assign_profiles([c.members for c in clusters], previous, ages, new_profile_id)
    tx.apply_assignment(ids, previous, assignment, clusters, resolver.model_version, at)
    return ResolveReport(
        records=len(records),
        profiles_touched=len(set(assignment.membership.values())),
        changes=len(assignment.changes),
    )


def review_rows(
    review: Sequence[PairScore], ids: dict[RecordKey, int], resolver: StoreResolver
) -> list[dict[str, Any]]:
    """Review candidates as rows of the review queue."""
    return [
        {
            "record_a": ids[p.a],
            "record_b": ids[p.b],
            "probability": p.probability,
            "weight": p.weight,
            "evidence": p.evidence,
            "model_version": resolver.model_version,
        }
        for p in review
        if p.a in ids and p.b in ids
    ]


def resolve_all(
    store: Store,
    resolver: StoreResolver,
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
    clusters, review = resolver.resolve([rec for _, rec, _ in loaded], constraints)
    ids = {rec.key: rid for rid, rec, _ in loaded}
    with store.write() as tx:
        tx.replace_review_items(sorted(ids.values()), review_rows(review, ids, resolver), now())
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
