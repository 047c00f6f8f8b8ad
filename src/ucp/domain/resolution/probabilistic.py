"""The probabilistic resolver: blocking -> Fellegi–Sunter scores -> constrained clustering.

Example:
    >>> from ucp.domain.resolution.probabilistic import (
    ...     Model, ProbabilisticResolver, ResolutionSettings)
    >>> settings = ResolutionSettings()
    >>> resolver = ProbabilisticResolver(Model.untrained(settings), settings, {})
    >>> resolver.cluster([])
    []
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ucp.domain.model import RecordKey, ResolvableRecord
from ucp.domain.resolution.blocking import BlockingReport, block, sorted_unique
from ucp.domain.resolution.blocking import blocking_keys as _keys_of_row
from ucp.domain.resolution.clustering import (
    IDENTIFIER,
    KIND_NAMES,
    MANUAL,
    PROBABILISTIC,
    ClusterOutcome,
    Constraints,
    cluster_rows,
    connected_components,
)
from ucp.domain.resolution.deterministic import IdentifierPolicy
from ucp.domain.resolution.fs_model import Model, prob_to_weight
from ucp.domain.resolution.generic import identifier_edges
from ucp.domain.resolution.resolver import Cluster, Link
from ucp.domain.resolution.scoring import PairScore, ScoredPairs, evidence, score_pairs
from ucp.domain.resolution.settings import ResolutionSettings
from ucp.domain.resolution.table import RecordTable
from ucp.domain.resolution.training import TrainingReport, train, train_table

__all__ = [
    "Model",
    "PairScore",
    "ProbabilisticResolver",
    "ResolutionSettings",
    "Resolution",
    "TrainingReport",
    "train",
    "train_table",
]

Ints = npt.NDArray[np.int64]


@dataclass(slots=True)
class Resolution:
    """Everything one batch resolution produced, columnar (cheap at a million records)."""

    table: RecordTable
    scored: ScoredPairs
    kinds: npt.NDArray[np.int8]
    id_types: dict[int, str]
    outcome: ClusterOutcome
    blocking: BlockingReport

    @property
    def labels(self) -> Ints:
        """Cluster label per table row (the smallest row of the cluster)."""
        return self.outcome.labels


class ProbabilisticResolver:
    """Fellegi–Sunter scoring, identifier links and constrained clustering behind `Resolver`.

    The partition is a pure function of (records, model version, constraints): rows are taken
    in record-key order and every tie is broken by record keys.
    """

    def __init__(
        self,
        model: Model,
        settings: ResolutionSettings,
        policies: Mapping[str, IdentifierPolicy],
        *,
        unique_sources: frozenset[str] = frozenset(),
        must_link: Iterable[tuple[RecordKey, RecordKey]] = (),
        cannot_link: Iterable[tuple[RecordKey, RecordKey]] = (),
        explain: bool = True,
    ) -> None:
        self.model = model
        self.settings = settings
        self.policies = dict(policies)
        self.unique_sources = frozenset(unique_sources)
        self.must_link = tuple(sorted(tuple(sorted(p)) for p in must_link))
        self.cannot_link = tuple(sorted(tuple(sorted(p)) for p in cannot_link))
        self.explain = explain
        self.model_version = f"fs-{model.version}"
        self.limits = {t: p.max_per_profile for t, p in self.policies.items()
                       if p.max_per_profile is not None}

    # -- single records and pairs ------------------------------------------------------------
    def blocking_keys(self, record: ResolvableRecord) -> list[str]:
        """The record's blocking keys, each prefixed by its rule name (for a store index)."""
        table = RecordTable.from_records([record])
        return _keys_of_row(table, self.settings.all_blocking(), 0)

    def score(self, a: ResolvableRecord, b: ResolvableRecord) -> PairScore:
        """Explain any two records: the weight waterfall of their comparison."""
        table = RecordTable.from_records([a, b])
        scored = score_pairs(self.model, table, np.array([0]), np.array([1]))
        w = float(scored.weight[0])
        ev = evidence(self.model, scored, 0)
        first, second = (a.key, b.key) if table.keys[0] == a.key else (b.key, a.key)
        return PairScore(first, second, w, ev["probability"], ev)

    # -- batches -----------------------------------------------------------------------------
    def resolve(self, records: Sequence[ResolvableRecord] | RecordTable,
                truth: Sequence[object] | None = None,
                oversized: frozenset[str] = frozenset()) -> Resolution:
        """Block, score and cluster a batch (records, or a prebuilt `RecordTable`).

        `oversized`: blocking keys too big in the whole record set this batch is part of (the
        store), skipped here too, so a part resolves exactly as the whole would.
        """
        table = records if isinstance(records, RecordTable) else RecordTable.from_records(records)
        n = len(table)
        ia, ib, report = block(table, self.settings.all_blocking(), self.settings.max_block_size,
                               truth, oversized)
        table.blocked.clear()  # resolved: the pairs are not needed again
        ids = identifier_edges(table, self.policies, self.settings.generic_min_names)
        row = ({k: i for i, k in enumerate(table.keys)}
               if self.must_link or self.cannot_link else {})
        must = _rows(self.must_link, row)
        cannot = _rows(self.cannot_link, row)
        code_parts = [ia * n + ib, ids.ia * n + ids.ib]
        if must:
            arr = np.array(must, dtype=np.int64)
            code_parts.append(arr[:, 0] * n + arr[:, 1])
        del ia, ib  # a million records block tens of millions of pairs: hold one copy only
        codes = sorted_unique(np.concatenate(code_parts)) if n else np.empty(0, dtype=np.int64)
        del code_parts
        scored = score_pairs(self.model, table, codes // max(n, 1), codes % max(n, 1))
        kinds = np.full(len(codes), PROBABILISTIC, dtype=np.int8)
        id_types: dict[int, str] = {}
        if len(ids.ia):
            at = np.searchsorted(codes, ids.ia * n + ids.ib)
            kinds[at] = IDENTIFIER
            for k, t in zip(at.tolist(), ids.types, strict=True):
                id_types.setdefault(k, t)
        if must:
            arr = np.array(must, dtype=np.int64)
            kinds[np.searchsorted(codes, arr[:, 0] * n + arr[:, 1])] = MANUAL
        sources = sorted(self.unique_sources)
        unique = [sources.index(k.source) if k.source in self.unique_sources else -1
                  for k in table.keys]
        constraints = Constraints(tuple(must), tuple(cannot), unique, self.limits)
        outcome = cluster_rows(self.model, self.settings, table, scored, kinds, constraints)
        table.compared.clear()
        return Resolution(table, scored, kinds, id_types, outcome, report)

    def groups(self, res: Resolution) -> Ints:
        """Per row, the smallest row of its *resolution group*: rows joined by a linkable edge
        (probabilistic at or above `auto`, identifier, must-link) or holding one linkable
        identifier value (generic or not: whether a value is generic depends on all holders).

        A group is closed under everything clustering reads, so re-resolving a union of whole
        groups gives the partition resolving everything gives (the store's incremental path).
        """
        table, s = res.table, res.scored
        auto_w = prob_to_weight(self.settings.auto)
        linkable = (s.weight >= auto_w) | (res.kinds > PROBABILISTIC)
        left, right = [s.ia[linkable]], [s.ib[linkable]]
        holders: dict[tuple[str, str], int] = {}
        hold_a: list[int] = []
        hold_b: list[int] = []
        for row, idents in enumerate(table.identifiers):
            for ident in idents:
                first = holders.setdefault(ident, row)
                if first != row:
                    hold_a.append(first)
                    hold_b.append(row)
        if hold_a:
            left.append(np.array(hold_a, dtype=np.int64))
            right.append(np.array(hold_b, dtype=np.int64))
        return connected_components(len(table), np.concatenate(left), np.concatenate(right))

    def candidate_edges(self, records: Sequence[ResolvableRecord]) -> list[PairScore]:
        """Every blocked pair and identifier pair, scored and explained (key order)."""
        res = self.resolve(records)
        return [self._pair(res, k) for k in range(len(res.scored.ia))]

    def cluster(self, records: Sequence[ResolvableRecord]) -> list[Cluster]:
        """Partition records into persons; links carry kind, weight and evidence."""
        return self.clusters_of(self.resolve(records))

    def clusters_of(self, res: Resolution) -> list[Cluster]:
        """The `Cluster`s of a resolution, in order of their smallest record key."""
        table, labels = res.table, res.labels
        links: dict[int, list[Link]] = {}
        for e in sorted(res.outcome.links):
            a, b = int(res.scored.ia[e]), int(res.scored.ib[e])
            kind = int(res.kinds[e])
            ev: dict[str, object] = self._evidence(res, e) if self.explain else {}
            if kind == IDENTIFIER:
                ev["identifier_type"] = res.id_types.get(e, "")
            links.setdefault(int(labels[a]), []).append(
                Link(table.keys[a], table.keys[b], KIND_NAMES[kind],
                     round(float(res.scored.weight[e]), 4), ev))
        order = np.argsort(labels, kind="stable")
        sorted_labels = labels[order]
        if not len(order):
            return []
        starts = np.flatnonzero(np.r_[True, sorted_labels[1:] != sorted_labels[:-1]])
        ends = np.r_[starts[1:], len(order)]
        clusters = []
        for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
            rows = order[s:e]
            label = int(sorted_labels[s])
            clusters.append(Cluster(frozenset(table.keys[int(r)] for r in rows),
                                    tuple(links.get(label, ()))))
        return clusters

    def review_pairs(self, records: Sequence[ResolvableRecord] | Resolution) -> list[PairScore]:
        """Unlinked pairs between `review` and `auto` (and refused strong pairs), best first."""
        res = records if isinstance(records, Resolution) else self.resolve(records)
        labels = res.labels
        review_w = prob_to_weight(self.settings.review)
        s = res.scored
        apart = labels[s.ia] != labels[s.ib]
        picked = np.flatnonzero(apart & (s.weight >= review_w))
        picked = picked[np.lexsort((s.ib[picked], s.ia[picked], -s.weight[picked]))]
        return [self._pair(res, int(k)) for k in picked]

    def _evidence(self, res: Resolution, k: int) -> dict[str, object]:
        ev: dict[str, object] = evidence(self.model, res.scored, k)
        ev["kind"] = KIND_NAMES[int(res.kinds[k])]
        if k in res.outcome.refused:
            ev["refused"] = res.outcome.refused[k]
        return ev

    def _pair(self, res: Resolution, k: int) -> PairScore:
        w = float(res.scored.weight[k])
        ev = self._evidence(res, k)
        prob = ev["probability"]
        return PairScore(res.table.keys[int(res.scored.ia[k])],
                         res.table.keys[int(res.scored.ib[k])], w,
                         float(prob) if isinstance(prob, float) else 0.0, ev)


def _rows(pairs: Sequence[tuple[RecordKey, ...]], row: Mapping[RecordKey, int],
          ) -> list[tuple[int, int]]:
    out = set()
    for a, b in pairs:
        if a in row and b in row and a != b:
            x, y = row[a], row[b]
            out.add((min(x, y), max(x, y)))
    return sorted(out)
