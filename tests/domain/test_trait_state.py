"""Incremental trait state: folding events in any order and batches gives the values a full
evaluation gives, and the same state."""

from __future__ import annotations

import random
from datetime import timedelta

import orjson
from tests.domain.test_traits import EVENTS, NOW, SPECS, agg, ev

from ucp.domain import trait_state as ts
from ucp.domain import traits as dt

MIXED = [
    *EVENTS,
    ev("Order Completed", 3, "m6", revenue=0.1, category=1),
    ev("Order Completed", 4, "m7", revenue=0.2, category=1.0),
    ev("Order Completed", 5, "m8", revenue="x", category=True),
    ev("Page Viewed", 45, "m9", category={"a": 1}),
    ev("Order Completed", 0.5, "m10", revenue=1e-9, category="hats"),
]
MORE_SPECS = [
    *SPECS,
    agg("sum_30d", "sum", "properties.revenue", {"event": "Order Completed"}, "30d"),
    agg("fav_30d", "most_frequent", "properties.category", None, "30d"),
    agg("first_7d", "first", "properties.category", None, "7d"),
    agg("max_cat", "max", "properties.category"),
    agg("min_any", "min", "properties.revenue"),
    agg("with_rev", "count", "properties.revenue"),
    agg("any_5d", "exists", None, {"event": "Order Completed"}, "5d"),
    agg("min_rev_30d", "min", "properties.revenue", None, "30d"),
    agg("with_rev_30d", "count", "properties.revenue", None, "30d"),
]


def roundtrip(states: dict) -> dict:
    """What the store hands back: the states as JSON."""
    return orjson.loads(orjson.dumps(states))


def test_one_fold_gives_the_values_of_a_full_evaluation() -> None:
    states = ts.fold(MORE_SPECS, None, MIXED, NOW)
    assert ts.values(MORE_SPECS, roundtrip(states), NOW) == dt.evaluate(MORE_SPECS, MIXED, NOW)


def test_folding_in_any_order_and_batches_gives_the_same_state() -> None:
    """Late events, batches of any size, a JSON round trip between batches: same state as one
    fold (order-independent, exact sums), hence the same values."""
    expected = roundtrip(ts.fold(MORE_SPECS, None, MIXED, NOW))
    for seed in range(10):
        rng = random.Random(seed)
        events = list(MIXED)
        rng.shuffle(events)
        states = None
        while events:
            cut = rng.randint(1, 3)
            states = roundtrip(ts.fold(MORE_SPECS, states, events[:cut], NOW))
            events = events[cut:]
        assert states == expected, seed


def test_windows_stay_exact_at_a_later_read_time() -> None:
    """States folded at NOW give, read at NOW + 12 days, what evaluation at that time gives."""
    later = NOW + timedelta(days=12)
    states = roundtrip(ts.fold(MORE_SPECS, None, MIXED, NOW))
    assert ts.values(MORE_SPECS, states, later) == dt.evaluate(MORE_SPECS, MIXED, later)


def test_exact_sums_do_not_drift() -> None:
    """0.1 + 0.2 folded one at a time equals math.fsum over all terms."""
    spec = [agg("s", "sum", "properties.revenue")]
    events = [ev("x", 1, f"k{i}", revenue=v) for i, v in enumerate([0.1, 0.2, 0.3, 1e16, -1e16])]
    states = None
    for e in events:
        states = roundtrip(ts.fold(spec, states, [e], NOW))
    assert ts.values(spec, states, NOW) == dt.evaluate(spec, events, NOW) == {"s": 0.6}


def test_a_changed_definition_makes_the_state_unusable() -> None:
    states = roundtrip(ts.fold(MORE_SPECS, None, MIXED, NOW))
    assert ts.usable(MORE_SPECS, states)
    changed = [agg("lifetime_value", "sum", "properties.revenue")]
    assert not ts.usable(changed, states)
    assert not ts.usable(MORE_SPECS, None)


def test_random_sums_and_averages_equal_fsum() -> None:
    """Random floats over many magnitudes, folded in random batches: sum and avg equal the
    full evaluation (math.fsum) exactly."""
    rng = random.Random(3)
    specs = [agg("s", "sum", "properties.revenue"), agg("a", "avg", "properties.revenue")]
    for trial in range(20):
        events = [ev("x", 1, f"k{i}", revenue=rng.uniform(-1, 1) * 10 ** rng.randint(-12, 12))
                  for i in range(rng.randint(1, 60))]
        states = None
        order = list(events)
        rng.shuffle(order)
        for i in range(0, len(order), 7):
            states = roundtrip(ts.fold(specs, states, order[i:i + 7], NOW))
        assert ts.values(specs, states, NOW) == dt.evaluate(specs, events, NOW), trial


def test_folding_in_place_gives_the_same_state_and_copying_leaves_the_input_alone() -> None:
    first, rest = MIXED[:4], MIXED[4:]
    base = roundtrip(ts.fold(MORE_SPECS, None, first, NOW))
    before = roundtrip(base)
    copied = ts.fold(MORE_SPECS, base, rest, NOW)
    assert base == before  # the default never mutates its input
    owned = roundtrip(base)
    in_place = ts.fold(MORE_SPECS, owned, rest, NOW, in_place=True)
    assert roundtrip(in_place) == roundtrip(copied) == roundtrip(ts.fold(MORE_SPECS, None, MIXED,
                                                                         NOW))


def test_derived_expressions_evaluate_like_the_definition() -> None:
    """The compiled form of every operator and function (arithmetic, a zero division,
    coalesce, round, days_since, a missing input)."""
    values = {"a": 10, "b": 4, "zero": 0, "when": (NOW - timedelta(days=3)).isoformat()}
    cases = {
        "a + b * 2 - -b": 22, "a / b": 2.5, "a / zero": None, "coalesce(missing, b)": 4,
        "coalesce(a, b)": 10, "round(a / 3, 2)": 3.33, "days_since(when)": 3,
        "missing + 1": None, "days_since(missing)": None,
    }
    for expression, expected in cases.items():
        spec = dt.parse_expression("x", expression)
        assert dt.derive(spec, values, NOW) == expected, expression
