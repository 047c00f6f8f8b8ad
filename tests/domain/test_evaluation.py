"""Pairwise and B-cubed scores on hand-computed cases, edge cases, and brute-force agreement."""

from __future__ import annotations

from itertools import combinations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ucp.domain.evaluation import evaluate


def test_hand_computed_case() -> None:
    """truth {a,b} {c,d} {e}; predicted {a,b,c} {d}, e missing (a singleton)."""
    e = evaluate({"a": 1, "b": 1, "c": 2, "d": 2, "e": 3}, {"a": "x", "b": "x", "c": "x",
                                                            "d": "y"})
    assert (e.true_pairs, e.predicted_pairs, e.correct_pairs) == (2, 3, 1)
    assert e.pairwise_precision == pytest.approx(1 / 3)
    assert e.pairwise_recall == pytest.approx(1 / 2)
    assert e.pairwise_f1 == pytest.approx(0.4)
    # B-cubed precision: a 2/3, b 2/3, c 1/3, d 1, e 1 -> 11/3 / 5
    assert e.bcubed_precision == pytest.approx(11 / 15)
    # B-cubed recall: a 1, b 1, c 1/2, d 1/2, e 1 -> 4 / 5
    assert e.bcubed_recall == pytest.approx(4 / 5)
    assert e.bcubed_f1 == pytest.approx(2 * (11 / 15) * 0.8 / (11 / 15 + 0.8))
    assert (e.true_clusters, e.predicted_clusters) == (3, 3)
    assert (e.over_merged_clusters, e.split_entities) == (1, 1)
    assert e.missing_from_predicted == 1 and e.unknown_in_predicted == 0
    assert e.worst_over_merges[0].cluster == "x"
    assert e.worst_over_merges[0].keys == ("a", "b", "c")
    assert e.worst_over_merges[0].part_ids == (1, 2)
    assert e.worst_splits[0].cluster == 2 and e.worst_splits[0].part_ids == ("x", "y")


def test_perfect_prediction_scores_one() -> None:
    truth = {i: i // 3 for i in range(30)}
    e = evaluate(truth, {k: f"c{v}" for k, v in truth.items()})
    assert e.pairwise_f1 == 1.0 and e.bcubed_f1 == 1.0
    assert e.worst_over_merges == () and e.worst_splits == ()


def test_all_singletons_have_vacuous_precision_and_zero_recall() -> None:
    e = evaluate({"a": 1, "b": 1}, {})
    assert e.predicted_pairs == 0
    assert e.pairwise_precision == 1.0  # nothing claimed, nothing wrong
    assert e.pairwise_recall == 0.0
    assert e.pairwise_f1 == 0.0
    assert e.missing_from_predicted == 2


def test_no_true_pairs_has_vacuous_recall() -> None:
    e = evaluate({"a": 1, "b": 2}, {"a": "x", "b": "x"})
    assert e.pairwise_recall == 1.0 and e.pairwise_precision == 0.0
    assert e.bcubed_precision == pytest.approx(0.5) and e.bcubed_recall == 1.0


def test_empty_truth() -> None:
    e = evaluate({}, {"z": 1})
    assert e.records == 0 and e.pairwise_f1 == 1.0 and e.unknown_in_predicted == 1


def test_unknown_predicted_records_are_ignored_and_counted() -> None:
    e = evaluate({"a": 1, "b": 1}, {"a": "x", "b": "x", "q": "x", "r": "y"})
    assert e.pairwise_f1 == 1.0 and e.unknown_in_predicted == 2


def test_worst_errors_are_ranked_and_capped() -> None:
    truth = {i: i for i in range(200)}  # all distinct people
    predicted = {i: i // (2 + i // 20) for i in range(200)}  # growing over-merges
    e = evaluate(truth, predicted)
    assert len(e.worst_over_merges) == 10
    parts = [w.parts for w in e.worst_over_merges]
    assert parts == sorted(parts, reverse=True)
    assert all(len(w.keys) <= 20 for w in e.worst_over_merges)
    assert e.to_dict()["worst_over_merges"][0]["parts"] == parts[0]


def test_tuple_keys_become_lists_in_to_dict() -> None:
    e = evaluate({("crm", "1"): "P1", ("crm", "2"): "P1"}, {("crm", "1"): 1, ("crm", "2"): 2})
    d = e.to_dict()
    assert d["worst_splits"][0]["keys"] == [["crm", "1"], ["crm", "2"]]


def _brute(truth: dict[int, int], predicted: dict[int, int]) -> tuple[float, float]:
    pred = {k: predicted.get(k, ("single", k)) for k in truth}
    same_t = {(a, b) for a, b in combinations(sorted(truth), 2) if truth[a] == truth[b]}
    same_p = {(a, b) for a, b in combinations(sorted(truth), 2) if pred[a] == pred[b]}
    tp = len(same_t & same_p)
    return (tp / len(same_p) if same_p else 1.0, tp / len(same_t) if same_t else 1.0)


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.integers(0, 40), st.tuples(st.integers(0, 6), st.integers(0, 6)),
                       max_size=40))
def test_agrees_with_brute_force_pair_counting(data: dict[int, tuple[int, int]]) -> None:
    truth = {k: t for k, (t, _) in data.items()}
    predicted = {k: p for k, (_, p) in data.items() if k % 5}
    e = evaluate(truth, predicted)
    precision, recall = _brute(truth, predicted)
    assert e.pairwise_precision == pytest.approx(precision)
    assert e.pairwise_recall == pytest.approx(recall)
