"""Resolution use cases: re-cluster the components a change touches, or everything (batch).

Both paths run the same pure resolver on whole connected components, so they give the same
partition whatever order records arrived in (design.md §3, sequence neutrality).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import numpy as np
import orjson

from ucp.config import UCPConfig
from ucp.domain.model import Identifier, RecordKey, ResolvableRecord
from ucp.domain.resolution import (
    Assignment,
    DeterministicResolver,
    IdentifierPolicy,
    assign_profiles,
)
from ucp.domain.resolution.blocking import blocking_keys as table_blocking_keys
from ucp.domain.resolution.blocking import rule_keys
from ucp.domain.resolution.fs_model import Model, prob_to_weight
from ucp.domain.resolution.probabilistic import ProbabilisticResolver, Resolution
from ucp.domain.resolution.resolver import NO_CONSTRAINTS, Cluster, Constraints
from ucp.domain.resolution.scoring import PairScore, evidence, score_pairs
from ucp.domain.resolution.settings import (
    HOUSEHOLD_SAFE,
    BlockingRule,
    ComparisonSpec,
    ResolutionSettings,
)
from ucp.domain.resolution.table import FEATURES_VERSION, RecordTable, record_base_features
from ucp.errors import StoreError
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
    """The engine's settings from `resolution:` in ucp.yaml (defaults where it is silent)."""
    r = config.resolution
    settings = ResolutionSettings(
        auto=r.auto,
        review=r.review,
        max_block_size=r.max_block_size,
        hard_conflicts=HOUSEHOLD_SAFE if r.household_safe else (),
        exact_columns=tuple(r.exact_columns),
        text_columns=tuple(r.text_columns),
    )
    if r.comparisons is not None:
        settings = replace(settings, comparisons=tuple(
            ComparisonSpec(c.name, c.kind, c.feature, c.tf, dict(c.options))
            for c in r.comparisons))
    if r.blocking is not None:
        settings = replace(settings, blocking=tuple(
            BlockingRule(b.name, tuple(b.features)) for b in r.blocking))
    return settings


class StoreResolver:
    """The configured engine, as the store paths use it.

    A `Resolver` (`cluster(records, constraints)`) that also gives blocking keys for the store's
    index, review candidates, and the connected component around changed records.
    """

    def __init__(
        self,
        config: UCPConfig,
        model: Model | None = None,
        *,
        settings: ResolutionSettings | None = None,
        policies: Mapping[str, IdentifierPolicy] | None = None,
    ) -> None:
        """`settings` and `policies` replace what `config` says (`ucp dedupe --incremental`
        resolves with the settings and identifier policy of the batch dedupe)."""
        self.policies = dict(policies) if policies is not None else identifier_policies(config)
        self.probabilistic = config.resolution.engine == "probabilistic"
        self.unique_sources = frozenset(
            name for name, source in config.sources.items() if source.unique_per_person
        )
        self.settings = settings or resolution_settings(config)
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

    def resolve_table(
        self,
        table: RecordTable,
        constraints: Constraints = NO_CONSTRAINTS,
        oversized: frozenset[str] = frozenset(),
    ) -> tuple[Resolution, list[Cluster], list[PairScore]]:
        """Resolve a table of whole resolution groups (probabilistic engine only)."""
        engine = self.engine(constraints.restricted_to(set(table.keys)))
        result = engine.resolve(table, oversized=oversized)
        return result, engine.clusters_of(result), engine.review_pairs(result)

    def oversized(
        self, tx: StoreTx, table: RecordTable, records: _Records | None = None
    ) -> frozenset[str]:
        """The table's blocking keys held by more than `max_block_size` records store-wide.

        Batch resolution skips those blocks (they are oversized in the whole store); a part
        of the store must skip them too, or it would pair records batch never pairs.
        """
        keys: set[str] = set()
        for rule in self.settings.all_blocking():
            keys.update(f"{rule.name}:{k}" for k in rule_keys(table, rule) if k)
        limit = self.settings.max_block_size
        sizes = records.block_sizes(keys) if records is not None else tx.block_sizes(keys)
        return frozenset(k for k, n in sizes.items() if n > limit)

    def component(self, tx: StoreTx, seeds: Iterable[int]) -> set[int]:
        """The records to re-resolve together with `seeds` (a union of whole resolution
        groups around them; see `touched`)."""
        if not self.probabilistic:
            return tx.component(seeds)
        return self.touched(tx, seeds, _Records(tx, self.model_version))[0]

    def touched(
        self, tx: StoreTx, seeds: Iterable[int], records: _Records
    ) -> tuple[set[int], list[dict[str, Any]]]:
        """The records to re-resolve after `seeds` changed, and review candidates between a
        seed and a record outside that set.

        A *resolution group* (`ProbabilisticResolver.groups`) is closed under every edge
        clustering reads: shared linkable identifiers, must-links, blocked pairs scoring at or
        above `auto`. The store keeps each record's group under the model that made it, so the
        set is: the seeds, their direct neighbours (strong blocked pairs, identifier holders,
        must-links, and the holders of a block the seeds just pushed over `max_block_size`,
        whose pairs batch now skips) and every record of their stored groups. A change adds
        edges only at the seeds, so this set is a union of the new groups and re-resolving it
        gives exactly what batch gives. Where a neighbour has no current group (never
        resolved, resolved under another model, changed since) the groups are walked instead
        (`_walk`), with the same edges.
        """
        start = sorted(set(seeds))
        records.load(start)
        start = [rid for rid in start if rid in records.rows]
        if not start:
            return set(), []
        strong, review, crossing = self._neighbours(tx, start, records, set(), seeds=True)
        linked = tx.identifier_coholders(start) | tx.must_linked_keys(
            records.rows[rid].key for rid in start
        )
        direct = (strong | linked | crossing) - set(start)
        records.load(direct)
        direct &= set(records.rows)
        groups = _stored_groups(start, direct, records)
        found = set(start) | direct
        if groups is not None:
            members = records.load_groups(groups)
            if all(
                records.rows[r].fresh and records.rows[r].group is not None
                for r in members - found
                if r in records.rows
            ):
                found |= members & set(records.rows)
                return found, review
        return self._walk(tx, found, records), review

    def _walk(self, tx: StoreTx, start: set[int], records: _Records) -> set[int]:
        """Breadth-first over group edges from `start` (records without a usable group)."""
        found = set(start)
        frontier = sorted(found)
        while frontier:
            records.load(frontier)
            linked = tx.identifier_coholders(frontier) | tx.must_linked_keys(
                records.rows[rid].key for rid in frontier if rid in records.rows
            )
            strong, _, _ = self._neighbours(tx, frontier, records, found | linked)
            fresh = (linked | strong) - found
            found |= fresh
            frontier = sorted(fresh)
        records.load(found)
        return found & set(records.rows)

    def _neighbours(
        self,
        tx: StoreTx,
        frontier: list[int],
        records: _Records,
        skip: set[int],
        seeds: bool = False,
    ) -> tuple[set[int], list[dict[str, Any]], set[int]]:
        """Records sharing a block (not oversized store-wide) with `frontier` whose pair scores
        at or above `auto`.

        With `seeds`: also review candidates (pairs between `review` and `auto`) and the
        holders of the blocks the seeds pushed over `max_block_size`.
        """
        keys_of = records.blocking_keys_of(frontier)
        sizes = records.block_sizes({k for keys in keys_of.values() for k in keys})
        limit = self.settings.max_block_size
        crossing: set[int] = set()
        if seeds:
            held: dict[str, int] = {}
            for keys in keys_of.values():
                for k in keys:
                    held[k] = held.get(k, 0) + 1
            over = [k for k, n in sizes.items() if n > limit and n - held.get(k, 0) <= limit]
            if over:
                crossing = {rid for rid, _ in tx.block_holders(over)}
        holders: dict[str, list[int]] = {}
        for rid, key in tx.block_holders(k for k, n in sizes.items() if 1 < n <= limit):
            holders.setdefault(key, []).append(rid)
        pairs: set[tuple[int, int]] = set()
        inside = set(frontier)
        for rid, keys in keys_of.items():
            for k in keys:
                for other in holders.get(k, ()):
                    if other != rid and other not in skip and (other not in inside or other > rid):
                        pairs.add((rid, other))
        if not pairs:
            return set(), [], crossing
        records.load({b for _, b in pairs})
        pairs = {(a, b) for a, b in pairs if a in records.rows and b in records.rows}
        ids = sorted({x for p in pairs for x in p})
        table = RecordTable.from_features(
            [(records.rows[r].key, records.rows[r].features, ()) for r in ids]
        )
        row_of = {key: i for i, key in enumerate(table.keys)}
        rid_at = [0] * len(table)
        for r in ids:
            rid_at[row_of[records.rows[r].key]] = r
        ordered = sorted(
            {
                tuple(sorted((row_of[records.rows[a].key], row_of[records.rows[b].key])))
                for a, b in pairs
            }
        )
        ia = np.array([a for a, _ in ordered], dtype=np.int64)
        ib = np.array([b for _, b in ordered], dtype=np.int64)
        scored = score_pairs(self.model, table, ia, ib)
        strong: set[int] = set()
        review: list[dict[str, Any]] = []
        review_w = prob_to_weight(self.settings.review)
        for e, (a, b) in enumerate(ordered):
            ra, rb = rid_at[a], rid_at[b]
            weight = float(scored.weight[e])
            if weight >= self._link_weight:
                strong.add(rb if ra in inside else ra)
                if ra in inside and rb in inside:
                    strong.add(ra)
            elif seeds and weight >= review_w:
                ev: dict[str, Any] = evidence(self.model, scored, e)
                ev["kind"] = "probabilistic"
                review.append(
                    {
                        "record_a": ra,
                        "record_b": rb,
                        "probability": ev["probability"],
                        "weight": weight,
                        "evidence": ev,
                        "model_version": self.model_version,
                    }
                )
        return strong, review, crossing

    def state_row(self, record_id: int, records: _Records, group: int) -> dict[str, Any]:
        loaded = records.rows[record_id]
        return {
            "record_id": record_id,
            "features_key": loaded.features_key,
            "features": loaded.features,
            "component": group,
            "model_version": self.model_version,
        }

    def state_rows(
        self,
        result: Resolution,
        ids: dict[RecordKey, int],
        records: _Records | None = None,
        hashes: dict[int, str] | None = None,
    ) -> list[dict[str, Any]]:
        """The resolution state of every resolved record: features and group."""
        labels = self.engine().groups(result).tolist()
        table = result.table
        group: dict[int, int] = {}
        for row, label in enumerate(labels):
            rid = ids[table.keys[row]]
            group[label] = min(group.get(label, rid), rid)
        out = []
        for row, label in enumerate(labels):
            rid = ids[table.keys[row]]
            if records is not None:
                loaded = records.rows[rid]
                feats, fkey = loaded.features, loaded.features_key
            else:
                assert hashes is not None
                feats, fkey = table.base_row(row), f"{FEATURES_VERSION}:{hashes.get(rid, '')}"
            out.append(
                {
                    "record_id": rid,
                    "features_key": fkey,
                    "features": feats,
                    "component": group[label],
                    "model_version": self.model_version,
                }
            )
        return out


def _stored_groups(start: list[int], direct: set[int], records: _Records) -> set[int] | None:
    """The stored groups of the seeds and their direct neighbours; None when one is unknown
    (resolved before under another model, or changed since without being resolved)."""
    groups: set[int] = set()
    for rid in start:
        row = records.rows[rid]
        if row.group is not None:
            groups.add(row.group)  # a changed seed's old group: its old edges may be gone
        elif row.has_state or row.profile is not None:
            return None
    for rid in direct:
        row = records.rows[rid]
        if row.group is None or not row.fresh:
            return None
        groups.add(row.group)
    return groups


@dataclass(frozen=True, slots=True)
class NewRecord:
    """A record the caller has just inserted (the incremental path does not read it back)."""

    #: as resolution sees it: linkable identifiers sorted (as `StoreTx.resolvable` gives them)
    record: ResolvableRecord
    content_hash: str
    #: what the caller stored as its blocking keys
    blocking_keys: Sequence[str]


@dataclass(slots=True)
class _Row:
    """A record as the incremental path sees it."""

    key: RecordKey
    profile: str | None
    features: dict[str, str]
    #: "<features version>:<content hash>" of the current content
    features_key: str
    #: the stored features (and group) were made from the current content
    fresh: bool
    #: the stored resolution group, when it was made under the current model
    group: int | None
    has_state: bool


class _Records:
    """Records loaded once per incremental call: stored features, attributes only as fallback."""

    def __init__(
        self,
        tx: StoreTx,
        model_version: str,
        known: Mapping[int, ResolvableRecord] | None = None,
        new: Mapping[int, NewRecord] | None = None,
    ) -> None:
        self.tx = tx
        self.model_version = model_version
        self.rows: dict[int, _Row] = {}
        self.idents: dict[int, tuple[Identifier, ...]] = {}
        self.sizes: dict[str, int] = {}
        #: current content of records the caller just wrote (not read back to rebuild features)
        self.known = known or {}
        #: records the caller just inserted: no state, profile, links or review items yet
        self.new = new or {}

    def load(self, record_ids: Iterable[int]) -> None:
        wanted = [rid for rid in record_ids if rid not in self.rows]
        for rid in [rid for rid in wanted if rid in self.new]:
            made = self.new[rid]
            self.rows[rid] = _Row(
                made.record.key,
                None,
                record_base_features(made.record),
                f"{FEATURES_VERSION}:{made.content_hash}",
                False,
                None,
                False,
            )
            self.idents[rid] = made.record.identifiers
        wanted = [rid for rid in wanted if rid not in self.new]
        if wanted:
            self._add(self.tx.resolution_rows(wanted))

    def blocking_keys_of(self, record_ids: Iterable[int]) -> dict[int, list[str]]:
        """Each record's stored blocking keys (a new record's as the caller gave them)."""
        ids = list(record_ids)
        out = {rid: list(self.new[rid].blocking_keys) for rid in ids if rid in self.new}
        stored = [rid for rid in ids if rid not in self.new]
        if stored:
            out.update(self.tx.blocking_keys_of(stored))
        return {rid: keys for rid, keys in out.items() if keys}

    def load_groups(self, groups: Iterable[int]) -> set[int]:
        """Load every record of these stored groups; their ids."""
        found = self.tx.group_rows(groups)
        self._add({rid: row for rid, row in found.items() if rid not in self.rows})
        return set(found)

    def _add(self, found: dict[int, dict[str, Any]]) -> None:
        rebuild = []
        for rid, row in found.items():
            fkey = f"{FEATURES_VERSION}:{row['content_hash']}"
            fresh = row["features_key"] == fkey
            has_state = row["component"] is not None
            current = has_state and row["model_version"] == self.model_version
            self.rows[rid] = _Row(
                row["key"],
                row["profile_id"],
                dict(row["features"]) if fresh else {},
                fkey,
                fresh,
                row["component"] if current else None,
                has_state,
            )
            if not fresh:
                rebuild.append(rid)
        if rebuild:
            missing = [rid for rid in rebuild if rid not in self.known]
            loaded = self.tx.resolvable(missing) if missing else {}
            for rid in rebuild:
                record = self.known[rid] if rid in self.known else loaded[rid][0]
                self.rows[rid].features = record_base_features(record)
                self.idents[rid] = record.identifiers

    def block_sizes(self, keys: Iterable[str]) -> dict[str, int]:
        """Store-wide block sizes (each asked of the store once per call)."""
        wanted = set(keys)
        missing = wanted - self.sizes.keys()
        if missing:
            self.sizes.update(self.tx.block_sizes(missing))
        return {k: self.sizes[k] for k in wanted if k in self.sizes}

    def identifiers(self, record_ids: Iterable[int]) -> dict[int, tuple[Identifier, ...]]:
        ids = list(record_ids)
        missing = [rid for rid in ids if rid not in self.idents]
        if missing:
            found = self.tx.linkable_identifiers(missing)
            for rid in missing:
                self.idents[rid] = tuple(sorted(found.get(rid, ())))
        return {rid: self.idents[rid] for rid in ids}


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
            try:
                model = Model.from_json(orjson.dumps(row["body"]).decode())
            except ValueError as exc:
                raise StoreError(
                    f"the active model {row['version']} cannot be used by this version of "
                    f"ucp ({exc}): train a new one with `ucp train`") from None
    return StoreResolver(config, model)


@dataclass(frozen=True, slots=True)
class ResolveReport:
    records: int
    profiles_touched: int
    changes: int


def resolve_touched(
    tx: StoreTx,
    resolver: StoreResolver,
    record_ids: Iterable[int],
    at: datetime | None = None,
    known: Mapping[int, ResolvableRecord] | None = None,
    new: Mapping[int, NewRecord] | None = None,
) -> ResolveReport:
    """Re-cluster every resolution group that holds one of `record_ids` (the incremental path).

    `known`: records among them as the caller just stored them (their linkable identifiers
    sorted, as `StoreTx.resolvable` gives them), so they are not read back; `new`: those
    among them the caller has just inserted, with their content hash and blocking keys.
    """
    at = at or now()
    if not resolver.probabilistic:
        return _resolve_deterministic(tx, resolver, record_ids, at)
    records = _Records(tx, resolver.model_version, known, new)
    seeds = set(record_ids)
    found, outside = resolver.touched(tx, seeds, records)
    if not found:
        return ResolveReport(0, 0, 0)
    present = sorted(found)
    rows = records.rows
    ids = {rows[r].key: r for r in present}
    previous = {rows[r].key: rows[r].profile for r in present}
    if len(present) == 1:
        # a group of one (nothing links it): one cluster, no links, no pair inside to review
        (only,) = present
        clusters, review = [Cluster(frozenset(ids))], list[PairScore]()
        state = [resolver.state_row(only, records, only)]
    else:
        idents = records.identifiers(present)
        table = RecordTable.from_features(
            [(rows[r].key, rows[r].features, idents[r]) for r in present]
        )
        result, clusters, review = resolver.resolve_table(
            table, tx.constraints_for(ids), resolver.oversized(tx, table, records)
        )
        state = resolver.state_rows(result, ids, records)
    queued = review_rows(review, ids, resolver)
    queued += [i for i in outside if (i["record_a"] in found) != (i["record_b"] in found)]
    tx.replace_review_items(
        present, queued, at, seeds=seeds & found, model_version=resolver.model_version
    )
    ages = tx.profile_ages(pid for pid in previous.values() if pid)
    assignment = assign_profiles([c.members for c in clusters], previous, ages, new_profile_id)
    tx.apply_assignment(
        ids, previous, assignment, clusters, resolver.model_version, at, known=ages
    )
    # only the records whose stored state differs (new, changed, or in another group now)
    tx.set_resolution_state(
        [
            row
            for row in state
            if not rows[row["record_id"]].fresh or rows[row["record_id"]].group != row["component"]
        ]
    )
    return ResolveReport(
        records=len(present),
        profiles_touched=len(set(assignment.membership.values())),
        changes=len(assignment.changes),
    )


def opened_blocks(
    tx: StoreTx,
    resolver: StoreResolver,
    before: Mapping[int, Sequence[str]],
    after: Mapping[int, Sequence[str]] | None = None,
) -> set[int]:
    """Holders of the blocks that records just left and that now have `max_block_size` or
    fewer holders, having had more: batch resolution skipped such a block and pairs its
    holders now, so they must be re-resolved too (`resolve_touched` seeds) — the opposite of
    a block a new record pushes over the limit (`StoreResolver.touched`).

    `before`: each changed record's blocking keys before the change; `after`: its keys after
    it (a record not in `after` was deleted). Call once the store holds the new keys.
    """
    if not resolver.probabilistic or not before:
        return set()
    after = after or {}
    left: dict[str, int] = {}
    for rid, keys in before.items():
        for key in set(keys).difference(after.get(rid, ())):
            left[key] = left.get(key, 0) + 1
    if not left:
        return set()
    limit = resolver.settings.max_block_size
    sizes = tx.block_sizes(left)
    opened = [key for key, gone in left.items()
              if (now_held := sizes.get(key, 0)) <= limit < now_held + gone]
    return {rid for rid, _ in tx.block_holders(opened)} if opened else set()


def _resolve_deterministic(
    tx: StoreTx, resolver: StoreResolver, record_ids: Iterable[int], at: datetime
) -> ResolveReport:
    component = tx.component(record_ids)
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


#: pending records beyond this share of the store are resolved in one batch (after a bulk
#: load or a new model that is quicker than their groups one after another; same partition)
PENDING_BATCH_SHARE = 0.2
_PENDING_CHUNK = 500


def resolve_pending(
    store: Store,
    resolver: StoreResolver,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[ResolveReport, bool]:
    """Resolve the records that need it (`StoreTx.unresolved_records`: ingested with
    resolution deferred, changed since, or resolved under another model) by the incremental
    path, a chunk of them per transaction; in one batch (`resolve_all`) when they are more
    than `PENDING_BATCH_SHARE` of the store. Either way the partition is the one a batch run
    gives. Returns the report and whether it ran as one batch."""
    with store.read() as tx:
        pending = tx.unresolved_records(
            resolver.model_version if resolver.probabilistic else None, FEATURES_VERSION)
        total = tx.counts()["records"]
    if not pending:
        return ResolveReport(0, 0, 0), False
    if len(pending) > PENDING_BATCH_SHARE * total:
        return resolve_all(store, resolver, progress), True
    records = touched = changes = 0
    for start in range(0, len(pending), _PENDING_CHUNK):
        with store.write() as tx:
            done = resolve_touched(tx, resolver, pending[start:start + _PENDING_CHUNK])
        records += done.records
        touched += done.profiles_touched
        changes += done.changes
        if progress is not None:
            progress(min(start + _PENDING_CHUNK, len(pending)), len(pending))
    return ResolveReport(records, touched, changes), False


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
        stateful = isinstance(resolver, StoreResolver) and resolver.probabilistic
        hashes = tx.content_hashes() if stateful else {}
    total = len(loaded)
    if progress:
        progress(0, total)
    ids = {rec.key: rid for rid, rec, _ in loaded}
    state: dict[int, dict[str, Any]] = {}
    if stateful:
        assert isinstance(resolver, StoreResolver)
        table = RecordTable.from_records([rec for _, rec, _ in loaded])
        result, clusters, review = resolver.resolve_table(table, constraints)
        # each record's features and resolution group, for the incremental path
        state = {row["record_id"]: row for row in resolver.state_rows(result, ids, None, hashes)}
        del table, result
    else:
        clusters, review = resolver.resolve([rec for _, rec, _ in loaded], constraints)
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
            if state:
                tx.set_resolution_state([state[ids[k]] for k in sorted(keys)])
        done += len(keys)
        if progress:
            progress(done, total)
    with store.write() as tx:
        tx.refresh_statistics()  # the state, links and memberships just written
    return ResolveReport(
        records=total,
        profiles_touched=len(set(assignment.membership.values())),
        changes=len(assignment.changes),
    )
