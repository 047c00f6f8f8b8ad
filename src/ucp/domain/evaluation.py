"""Score a resolution (record -> predicted cluster) against the truth (record -> real entity).

Pure and O(n log n): everything comes from the contingency table of (true entity, predicted
cluster) counts, so no pair of records is ever enumerated; 5 million records take seconds.

Conventions:
- Records in the truth but absent from the prediction are singletons (their own cluster).
- Records in the prediction but absent from the truth are ignored, and counted.
- A ratio whose denominator is zero is 1.0: with no predicted pairs nothing was wrongly merged
  (precision 1.0); with no true pairs there was nothing to find (recall 1.0). F1 is 0.0 when
  precision and recall are both 0.0.

Example:
    >>> e = evaluate({"a": 1, "b": 1, "c": 2}, {"a": "x", "b": "x", "c": "x"})
    >>> (e.pairwise_precision, e.pairwise_recall)
    (0.3333333333333333, 1.0)
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from itertools import repeat
from typing import Any

import numpy as np
import numpy.typing as npt

Codes = npt.NDArray[np.int64]

#: how many errors of each kind are reported, and how many keys each one lists
WORST_ERRORS = 10
KEYS_PER_ERROR = 20


@dataclass(frozen=True, slots=True)
class ClusterError:
    """One over-merge (a predicted cluster mixing entities) or split (an entity spread out)."""

    cluster: Hashable  # predicted cluster id (over-merge) or true entity id (split)
    records: int
    parts: int  # distinct true entities (over-merge) or predicted clusters (split)
    keys: tuple[Hashable, ...]  # record keys involved, capped at KEYS_PER_ERROR
    part_ids: tuple[Hashable, ...]  # the entities / clusters involved, capped likewise

    def to_dict(self) -> dict[str, Any]:
        return {"cluster": _plain(self.cluster), "records": self.records, "parts": self.parts,
                "keys": [_plain(k) for k in self.keys],
                "part_ids": [_plain(p) for p in self.part_ids]}


@dataclass(frozen=True, slots=True)
class Evaluation:
    """Pairwise and B-cubed scores, cluster counts and the worst errors."""

    records: int
    true_clusters: int
    predicted_clusters: int
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int
    pairwise_precision: float
    pairwise_recall: float
    pairwise_f1: float
    bcubed_precision: float
    bcubed_recall: float
    bcubed_f1: float
    over_merged_clusters: int
    split_entities: int
    missing_from_predicted: int
    unknown_in_predicted: int
    worst_over_merges: tuple[ClusterError, ...]
    worst_splits: tuple[ClusterError, ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON-ready values (tuple keys become lists)."""
        out: dict[str, Any] = {}
        for name in self.__slots__:
            value = getattr(self, name)
            if name.startswith("worst_"):
                value = [e.to_dict() for e in value]
            out[name] = value
        return out


def _plain(value: Hashable) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _ratio(num: float, den: float) -> float:
    return num / den if den else 1.0


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def _pairs(sizes: npt.NDArray[np.int64]) -> int:
    return int((sizes * (sizes - 1) // 2).sum())


_MISSING = object()


def _codes(values: list[Hashable]) -> tuple[Codes, list[Hashable]]:
    """Dense integer codes in order of first appearance (C-speed dict lookups, no Python loop)."""
    index = {v: i for i, v in enumerate(dict.fromkeys(values))}
    codes = np.fromiter(map(index.__getitem__, values), dtype=np.int64, count=len(values))
    return codes, list(index)


def _factorize(
    truth: Mapping[Hashable, Hashable], predicted: Mapping[Hashable, Hashable]
) -> tuple[list[Hashable], Codes, list[Hashable], Codes, list[Hashable | None], int]:
    keys = list(truth)
    t, t_ids = _codes(list(truth.values()))
    p, p_values = _codes(list(map(predicted.get, keys, repeat(_MISSING))))
    p_ids: list[Hashable | None] = list(p_values)
    missing = np.empty(0, dtype=np.int64)
    if _MISSING in p_ids:
        sentinel = p_ids.index(_MISSING)
        missing = np.flatnonzero(p == sentinel)
        # every missing record becomes its own cluster; the sentinel code is reused once
        p[missing[0]] = sentinel
        p[missing[1:]] = len(p_ids) + np.arange(len(missing) - 1, dtype=np.int64)
        p_ids[sentinel] = None
        p_ids += [None] * (len(missing) - 1)
    return keys, t, t_ids, p, p_ids, len(missing)


def evaluate(
    truth: Mapping[Hashable, Hashable], predicted: Mapping[Hashable, Hashable]
) -> Evaluation:
    """Compare a predicted clustering with the true one (both map record key -> cluster id)."""
    keys, t, t_ids, p, p_ids, n_missing = _factorize(truth, predicted)
    n = len(keys)
    unknown = len(predicted) - (n - n_missing)
    n_true, n_pred = len(t_ids), len(p_ids)
    if n == 0:
        return Evaluation(0, 0, 0, 0, 0, 0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0, 0, 0, unknown,
                          (), ())
    cells, counts = np.unique(t * n_pred + p, return_counts=True)
    cell_t, cell_p = cells // n_pred, cells % n_pred
    true_sizes = np.bincount(t, minlength=n_true)
    pred_sizes = np.bincount(p, minlength=n_pred)
    true_pairs, pred_pairs, correct = _pairs(true_sizes), _pairs(pred_sizes), _pairs(counts)
    squared = counts.astype(np.float64) ** 2
    b_precision = float((squared / pred_sizes[cell_p]).sum()) / n
    b_recall = float((squared / true_sizes[cell_t]).sum()) / n
    entities_per_cluster = np.bincount(cell_p, minlength=n_pred)
    clusters_per_entity = np.bincount(cell_t, minlength=n_true)
    precision, recall = _ratio(correct, pred_pairs), _ratio(correct, true_pairs)
    return Evaluation(
        records=n,
        true_clusters=n_true,
        predicted_clusters=n_pred,
        true_pairs=true_pairs,
        predicted_pairs=pred_pairs,
        correct_pairs=correct,
        pairwise_precision=precision,
        pairwise_recall=recall,
        pairwise_f1=_f1(precision, recall),
        bcubed_precision=b_precision,
        bcubed_recall=b_recall,
        bcubed_f1=_f1(b_precision, b_recall),
        over_merged_clusters=int((entities_per_cluster > 1).sum()),
        split_entities=int((clusters_per_entity > 1).sum()),
        missing_from_predicted=n_missing,
        unknown_in_predicted=unknown,
        worst_over_merges=_worst(p, t, entities_per_cluster, pred_sizes, keys, p_ids, t_ids),
        worst_splits=_worst(t, p, clusters_per_entity, true_sizes, keys, t_ids, p_ids),
    )


def _worst(
    group: Codes, other: Codes, parts: Codes, sizes: Codes, keys: list[Hashable],
    group_ids: list[Hashable] | list[Hashable | None],
    other_ids: list[Hashable] | list[Hashable | None],
) -> tuple[ClusterError, ...]:
    """The groups with the most parts (then the most records; ties by first appearance)."""
    bad = np.flatnonzero(parts > 1)
    if len(bad) == 0:
        return ()
    order = np.lexsort((bad, -sizes[bad], -parts[bad]))[:WORST_ERRORS]
    chosen = bad[order]
    rows = np.flatnonzero(np.isin(group, chosen))
    members: dict[int, list[int]] = {int(g): [] for g in chosen}
    for r in rows.tolist():
        members[int(group[r])].append(r)
    errors = []
    for g in chosen.tolist():
        rs = members[g]
        seen = list(dict.fromkeys(int(other[r]) for r in rs))
        errors.append(ClusterError(
            cluster=group_ids[g], records=int(sizes[g]), parts=int(parts[g]),
            keys=tuple(keys[r] for r in rs[:KEYS_PER_ERROR]),
            part_ids=tuple(other_ids[o] for o in seen[:KEYS_PER_ERROR]),
        ))
    return tuple(errors)
