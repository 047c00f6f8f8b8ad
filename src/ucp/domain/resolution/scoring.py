"""Scoring pairs: levels -> match weight (sum of log2 Bayes factors) -> probability, explained."""

from __future__ import annotations

import json
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from ucp.domain.model import RecordKey
from ucp.domain.resolution.comparisons import Comparison, compare_all
from ucp.domain.resolution.fs_model import Model, weight_to_prob
from ucp.domain.resolution.table import RecordTable

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class PairScore:
    """Two records, their match weight and probability, and the waterfall that explains it.

    `evidence` = {"model_version", "prior", "comparisons": [{"name", "level", "weight",
    "tf_adjustment"}], "total", "probability"} (plus "kind"/"refused" where clustering adds).
    """

    a: RecordKey
    b: RecordKey
    weight: float
    probability: float
    evidence: dict[str, Any] = field(default_factory=dict)


#: pairs weighed per call of `Model.scores` when scoring a big batch: its per-comparison weight
#: matrices are temporaries of this many rows, not of every candidate pair
_WEIGH_CHUNK = 500_000


@dataclass(slots=True)
class ScoredPairs:
    """A batch of scored pairs (rows of one table), kept columnar.

    The per-comparison weights and TF adjustments (`per`, `tf`: two float matrices, most of
    the memory of a big batch) are only needed to explain a pair; for a big batch they are
    computed when first asked for (same values: `Model.scores` is row by row).
    """

    ia: Ints
    ib: Ints
    levels: npt.NDArray[np.int8]
    weight: Floats
    _parts: tuple[Floats, Floats] | None = None
    _source: tuple[Model, RecordTable] | None = None

    @property
    def probability(self) -> Floats:
        return weight_to_prob(self.weight)

    @property
    def per(self) -> Floats:
        """Weight of each comparison's level (pairs × comparisons)."""
        return self._weights()[0]

    @property
    def tf(self) -> Floats:
        """Term-frequency adjustment of each comparison (pairs × comparisons)."""
        return self._weights()[1]

    def _weights(self) -> tuple[Floats, Floats]:
        if self._parts is None:
            if self._source is None:
                raise ValueError("scored pairs without their model")
            model, table = self._source
            _, per, tf = model.scores(self.levels, table, self.ia)
            self._parts = (per, tf)
        return self._parts

    def take(self, index: Ints) -> ScoredPairs:
        parts = (self._parts[0][index], self._parts[1][index]) if self._parts else None
        return ScoredPairs(self.ia[index], self.ib[index], self.levels[index],
                           self.weight[index], parts, self._source)


#: pairs compared per call of `compare_all` for a big batch: each comparison's temporaries
#: (value codes of both sides for several features, masks, similarities) are this many rows
_COMPARE_CHUNK = 1_000_000
#: a table keeps the levels of at most this many pairs (`cache_levels`): a million records'
#: tens of millions of blocked pairs would hold hundreds of MB from training to resolving
CACHE_PAIRS = 5_000_000
#: `cache_levels` shares the pairs with a helper thread from twice this many
_SPLIT_FROM = 50_000

Levels = npt.NDArray[np.int8]


def _cache_key(comparisons: Sequence[Comparison]) -> str:
    return json.dumps([c.spec.to_dict() for c in comparisons], sort_keys=True)


def _compare_chunked(comparisons: Sequence[Comparison], table: RecordTable, ia: Ints,
                     ib: Ints) -> Levels:
    """`compare_all`, a big batch chunk by chunk (a level depends on its pair alone)."""
    if len(ia) <= _COMPARE_CHUNK:
        return compare_all(list(comparisons), table, ia, ib)
    levels = np.empty((len(ia), len(comparisons)), dtype=np.int8)
    for s in range(0, len(ia), _COMPARE_CHUNK):
        levels[s:s + _COMPARE_CHUNK] = compare_all(
            list(comparisons), table, ia[s:s + _COMPARE_CHUNK], ib[s:s + _COMPARE_CHUNK])
    return levels


def cache_levels(comparisons: Sequence[Comparison], table: RecordTable, ia: Ints,
                 ib: Ints, helper: Executor | None = None) -> bool:
    """Compare the pairs (sorted, unique, as `block` gives them) once and keep their levels
    on the table for `compare_pairs`; False (nothing kept) above `CACHE_PAIRS` pairs.

    `helper`: a thread that compares the second half of the pairs meanwhile (comparing runs
    mostly in numpy and rapidfuzz, without the GIL); the levels are the same either way.
    """
    if len(ia) > CACHE_PAIRS:
        return False
    codes = ia * np.int64(max(len(table), 1)) + ib
    if helper is not None and len(ia) >= 2 * _SPLIT_FROM:
        half = len(ia) // 2
        later = helper.submit(_compare_chunked, comparisons, table, ia[half:], ib[half:])
        first = _compare_chunked(comparisons, table, ia[:half], ib[:half])
        levels = np.concatenate([first, later.result()])
    else:
        levels = _compare_chunked(comparisons, table, ia, ib)
    table.compared[_cache_key(comparisons)] = (codes, levels)
    return True


def compare_pairs(comparisons: Sequence[Comparison], table: RecordTable, ia: Ints, ib: Ints,
                  columns: Sequence[int] | None = None) -> Levels:
    """The level matrix of the pairs (`columns`: only those comparisons), reusing the levels
    `cache_levels` kept on the table; the result is the same with or without them."""
    chosen = list(comparisons) if columns is None else [comparisons[j] for j in columns]
    cached = table.compared.get(_cache_key(comparisons)) if table.compared else None
    if cached is None or not len(cached[0]) or not len(ia):
        return _compare_chunked(chosen, table, ia, ib)
    known, known_levels = cached
    if columns is not None:
        known_levels = known_levels[:, list(columns)]
    codes = ia * np.int64(max(len(table), 1)) + ib
    at = np.minimum(np.searchsorted(known, codes), len(known) - 1)
    hit = known[at] == codes
    if hit.all():
        return np.ascontiguousarray(known_levels[at])
    levels = np.empty((len(ia), len(chosen)), dtype=np.int8)
    levels[hit] = known_levels[at[hit]]
    miss = np.flatnonzero(~hit)
    levels[miss] = _compare_chunked(chosen, table, ia[miss], ib[miss])
    return levels


def score_pairs(model: Model, table: RecordTable, ia: Ints, ib: Ints) -> ScoredPairs:
    """Compare and weigh every pair (ia[k], ib[k])."""
    levels = compare_pairs(model.comparisons, table, ia, ib)
    if len(ia) <= _WEIGH_CHUNK:
        total, per, tf = model.scores(levels, table, ia)
        return ScoredPairs(ia, ib, levels, total, (per, tf), (model, table))
    total = np.concatenate([
        model.scores(levels[s:s + _WEIGH_CHUNK], table, ia[s:s + _WEIGH_CHUNK])[0]
        for s in range(0, len(ia), _WEIGH_CHUNK)
    ])
    return ScoredPairs(ia, ib, levels, total, None, (model, table))


def evidence(model: Model, scored: ScoredPairs, k: int) -> dict[str, Any]:
    """The explain waterfall of pair k: prior, each comparison's level and weight, total."""
    rows = []
    for j, params in enumerate(model.params):
        level = int(scored.levels[k, j])
        rows.append({
            "name": params.name,
            "level": "null" if level == 0 else params.levels[level - 1],
            "weight": round(float(scored.per[k, j]), 4),
            "tf_adjustment": round(float(scored.tf[k, j]), 4),
        })
    total = float(scored.weight[k])
    return {"model_version": model.version, "prior": round(model.prior_weight, 4),
            "comparisons": rows, "total": round(total, 4),
            "probability": float(weight_to_prob(np.array([total]))[0])}


def pair_score(model: Model, table: RecordTable, scored: ScoredPairs, k: int,
               explain: bool = True) -> PairScore:
    """Pair k of a batch as a `PairScore`."""
    w = float(scored.weight[k])
    return PairScore(table.keys[int(scored.ia[k])], table.keys[int(scored.ib[k])], w,
                     float(weight_to_prob(np.array([w]))[0]),
                     evidence(model, scored, k) if explain else {})
