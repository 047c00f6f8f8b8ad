"""Computed traits: aggregates, filters, windows, derived values — pure evaluation."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from ucp.domain import traits as dt

NOW = datetime(2024, 6, 1, 12, tzinfo=UTC)


def ev(name: str, days_ago: float, key: str, **props: object) -> dt.EventFacts:
    when = NOW - timedelta(days=days_ago)
    return dt.EventFacts("web", key, name, when, when + timedelta(seconds=5),
                         {"properties": dict(props)})


def agg(name: str, aggregate: str, of: str | None = None, where: dict | None = None,
        window: str | None = None) -> dt.AggregateSpec:
    return dt.AggregateSpec(name, aggregate, of, dt.parse_where(where or {}),
                            dt.parse_window(window) if window else None)


ORDERS = {"event": "Order Completed"}
EVENTS = [
    ev("Order Completed", 40, "m1", revenue=100, category="shoes"),
    ev("Order Completed", 10, "m2", revenue="20.5", category="hats"),
    ev("Page Viewed", 2, "m3", category="hats"),
    ev("Order Completed", 1, "m4", revenue=30, category="shoes"),
    ev("Order Completed", 0.5, "m5", category="shoes"),
]
SPECS: list[dt.TraitSpec] = [
    agg("lifetime_value", "sum", "properties.revenue", ORDERS),
    agg("order_count", "count", None, ORDERS),
    agg("orders_30d", "count", None, ORDERS, "30d"),
    agg("avg_revenue", "avg", "properties.revenue", ORDERS),
    agg("min_revenue", "min", "properties.revenue", ORDERS),
    agg("max_revenue", "max", "properties.revenue", ORDERS),
    agg("first_category", "first", "properties.category"),
    agg("last_order_at", "last", "timestamp", ORDERS),
    agg("favorite_category", "most_frequent", "properties.category"),
    agg("big_order", "exists", None, {"properties.revenue": {"gte": 100}}),
    agg("refunds", "exists", None, {"event": "Order Refunded"}),
    dt.parse_expression("average_order_value", "lifetime_value / order_count"),
    dt.parse_expression("days_since_last_order", "days_since(last_order_at)"),
    dt.parse_expression("per_refund", "lifetime_value / 0"),
]


def test_every_aggregation_over_a_known_history() -> None:
    values = dt.evaluate(SPECS, EVENTS, NOW)
    assert values == {
        "lifetime_value": 150.5,
        "order_count": 4,
        "orders_30d": 3,
        "avg_revenue": pytest.approx(50.166667),
        "min_revenue": 20.5,
        "max_revenue": 100,
        "first_category": "shoes",
        "last_order_at": (NOW - timedelta(days=0.5)).isoformat(),
        "favorite_category": "shoes",
        "big_order": True,
        "refunds": False,
        "average_order_value": 37.625,
        "days_since_last_order": 0,
        "per_refund": None,
    }


def test_values_do_not_depend_on_arrival_order() -> None:
    """A late event lands in its place: the result is the same for any order of events."""
    expected = dt.evaluate(SPECS, EVENTS, NOW)
    shuffled = list(EVENTS)
    for seed in range(5):
        random.Random(seed).shuffle(shuffled)
        assert dt.evaluate(SPECS, shuffled, NOW) == expected


def test_no_events_gives_empty_values() -> None:
    values = dt.evaluate(SPECS, [], NOW)
    assert values["lifetime_value"] == 0 and values["order_count"] == 0
    assert values["average_order_value"] is None and values["favorite_category"] is None


def test_filters_with_operators() -> None:
    spec = agg("n", "count", None, {"event": ["Order Completed", "Page Viewed"],
                                    "properties.category": {"ne": "shoes"}})
    assert dt.evaluate([spec], EVENTS, NOW) == {"n": 2}


def test_derive_all_recomputes_days_since_at_read_time() -> None:
    stored = {"last_order_at": "2024-05-01T12:00:00+00:00"}
    specs = [agg("last_order_at", "last", "timestamp"),
             dt.parse_expression("d", "days_since(last_order_at)")]
    assert dt.derive_all(specs, stored, NOW)["d"] == 31


@pytest.mark.parametrize("text", ["__import__('os')", "a.b", "x ** 2", "f(1)", "a if b else c"])
def test_unsafe_or_unknown_expressions_are_refused(text: str) -> None:
    with pytest.raises(dt.TraitDefinitionError):
        dt.parse_expression("x", text)


def test_windows_and_references_are_checked() -> None:
    assert dt.parse_window("12h") == timedelta(hours=12)
    with pytest.raises(dt.TraitDefinitionError):
        dt.parse_window("two weeks")
    with pytest.raises(dt.TraitDefinitionError):
        dt.check_references([dt.parse_expression("a", "b + 1"), agg("b", "count")])
