"""Traits over the store: incremental equals rebuild, config errors name the key path."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from tests.realtime_support import CONFIG_YAML, realtime_config
from tests.services.test_worker import T0, apply_inbox, msg, order, profile_of

from ucp.config import parse_config
from ucp.errors import ConfigError
from ucp.services.traits import TraitComputer, profile_traits, rebuild_traits
from ucp.store.store import Store


def test_incremental_traits_equal_a_rebuild(store: Store) -> None:
    """Events land batch by batch (some late, some merging profiles); a batch rebuild at the
    same `now` stores exactly the same values."""
    for day in range(6):
        apply_inbox(store, [
            order(day * 10 + 1, 10 + day, T0 - timedelta(days=day), userId="u1"),
            order(day * 10 + 2, 3, T0 - timedelta(days=40 - day), anonymousId="a2"),
            msg("track", day * 10 + 3, event="Product Viewed", userId="u3",
                properties={"category": ["hats", "shoes"][day % 2]}),
        ])
    apply_inbox(store, [msg("identify", 99, userId="u3", anonymousId="a2")])
    with store.read() as tx:
        incremental = tx.all_traits()
        pids = list(incremental)
    at = datetime.now(UTC)
    with store.write() as tx:  # the same `now` for both, so windows and day counts agree
        TraitComputer(realtime_config()).recompute(tx, pids, at)
        expected = tx.all_traits()
    with store.write() as tx:
        tx.delete_traits(pids)
    assert rebuild_traits(store, realtime_config(), at=at) == len(pids)
    with store.read() as tx:
        assert tx.all_traits() == expected
    u3 = profile_of(store, "user_id", "u3")
    assert expected[u3]["order_count"] == 6 and expected[u3]["favorite_category"] == "hats"
    drop = {"days_since_last_order", "orders_30d"}
    assert {p: {k: v for k, v in t.items() if k not in drop} for p, t in incremental.items()} \
        == {p: {k: v for k, v in t.items() if k not in drop} for p, t in expected.items()}


def test_profile_traits_section(store: Store) -> None:
    apply_inbox(store, [order(1, 40, T0, userId="u1"), order(2, 60, T0, userId="u1")])
    pid = profile_of(store, "user_id", "u1")
    with store.read() as tx:
        section = profile_traits(tx, pid, realtime_config())
    assert section["values"]["average_order_value"] == 50
    assert section["values"]["days_since_last_order"] == (datetime.now(UTC) - T0).days
    assert section["updated_at"] is not None


@pytest.mark.parametrize(("patch", "where"), [
    ("  x: {aggregate: sum}\n", "traits.x.of"),
    ("  x: {aggregate: count, window: fortnight}\n", "traits.x.window"),
    ("  x: {aggregate: count, where: {event: {like: a}}}\n", "traits.x.where"),
    ("  x: {derive: nothing_here * 2}\n", "traits.x.derive"),
    ("  x: {aggregate: median, of: properties.a}\n", "traits.x.aggregate"),
])
def test_bad_trait_definitions_name_the_key(patch: str, where: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(CONFIG_YAML + patch)
    assert info.value.errors[0].startswith(where), info.value.errors
