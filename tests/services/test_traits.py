"""Traits over the store: incremental equals rebuild, config errors name the key path."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from tests.realtime_support import CONFIG_YAML, realtime_config
from tests.services.test_worker import T0, apply_inbox, msg, order, profile_of, traits_of

from ucp.config import parse_config
from ucp.domain import trait_state as ts
from ucp.errors import ConfigError
from ucp.services.collect import InboxLog
from ucp.services.traits import TraitComputer, profile_traits, rebuild_traits, trait_specs
from ucp.services.worker import InboxWorker
from ucp.store.store import Store, StoreTx


def _states(store: Store) -> dict[str, dict[str, Any]]:
    with store.read() as tx:
        return tx.trait_states(tx.all_traits())


def _read_values(store: Store, pids: list[str], at: datetime) -> dict[str, dict[str, Any]]:
    """Every profile's values as a read at `at` sees them (windows and derived values
    evaluated from the stored states)."""
    specs = trait_specs(realtime_config())
    states = _states(store)
    return {pid: ts.values(specs, states[pid], at) for pid in pids}


def test_incremental_traits_equal_a_rebuild(store: Store) -> None:
    """Events land batch by batch (some late, some merging profiles); the incremental states
    (folded event by event) equal a rebuild's (all events at once), and so do the values read
    at the same `now`, windows included."""
    for day in range(6):
        apply_inbox(store, [
            order(day * 10 + 1, 10 + day, T0 - timedelta(days=day), userId="u1"),
            order(day * 10 + 2, 3, T0 - timedelta(days=40 - day), anonymousId="a2"),
            msg("track", day * 10 + 3, event="Product Viewed", userId="u3",
                properties={"category": ["hats", "shoes"][day % 2]}),
        ])
        apply_inbox(store, [order(day * 10 + 4, 0.1 * day, datetime.now(UTC) - timedelta(
            days=day * 6), userId="u1")])  # some inside the 30-day window, some not
    apply_inbox(store, [msg("identify", 99, userId="u3", anonymousId="a2")])
    with store.read() as tx:
        incremental = tx.all_traits()
        pids = sorted(incremental)
    incremental_states = _states(store)
    at = datetime.now(UTC)
    incremental_read = _read_values(store, pids, at)
    with store.write() as tx:  # the same `now` for both, so windows and day counts agree
        TraitComputer(realtime_config()).recompute(tx, pids, at)
        expected = tx.all_traits()
    with store.write() as tx:
        tx.delete_traits(pids)
    assert rebuild_traits(store, realtime_config(), at=at) == len(pids)
    with store.read() as tx:
        assert tx.all_traits() == expected
    rebuilt_states = _states(store)
    assert _read_values(store, pids, at) == incremental_read == expected
    windowed = {"orders_30d"}  # entries are pruned at different times; values agree (above)
    assert {p: {k: v for k, v in st.items() if k not in windowed}
            for p, st in incremental_states.items()} \
        == {p: {k: v for k, v in st.items() if k not in windowed}
            for p, st in rebuilt_states.items()}
    u1, u3 = profile_of(store, "user_id", "u1"), profile_of(store, "user_id", "u3")
    assert expected[u3]["order_count"] == 6 and expected[u3]["favorite_category"] == "hats"
    assert expected[u1]["orders_30d"] == 5  # 5 of the 6 recent orders are within 30 days
    drop = {"days_since_last_order", "orders_30d"}
    assert {p: {k: v for k, v in t.items() if k not in drop} for p, t in incremental.items()} \
        == {p: {k: v for k, v in t.items() if k not in drop} for p, t in expected.items()}


def test_new_events_of_a_known_profile_are_folded_without_reading_its_events(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once a profile has a state, a batch of its events folds into it: no event is read back,
    and the values are those of a full recomputation."""
    apply_inbox(store, [order(i, 5, T0, userId="u1") for i in range(3)])
    reads: list[set[str]] = []
    original = StoreTx.profile_event_rows

    def spy(self: StoreTx, profile_ids: Any) -> Any:
        reads.append(set(profile_ids))
        return original(self, profile_ids)

    monkeypatch.setattr(StoreTx, "profile_event_rows", spy)
    apply_inbox(store, [order(10 + i, 7, T0 + timedelta(days=i), userId="u1") for i in range(4)])
    assert all(not ids for ids in reads), reads
    monkeypatch.undo()
    pid = profile_of(store, "user_id", "u1")
    with store.read() as tx:
        folded = tx.all_traits()[pid]
    at = datetime.now(UTC)
    with store.write() as tx:
        TraitComputer(realtime_config()).recompute(tx, [pid], at)
        full = tx.all_traits()[pid]
    assert folded["lifetime_value"] == full["lifetime_value"] == 43
    assert folded["order_count"] == full["order_count"] == 7


def test_a_changed_trait_definition_recomputes_instead_of_folding(store: Store) -> None:
    """A state made under another definition is not folded into: the next event recomputes
    the profile from all of its events under the new definition."""
    apply_inbox(store, [order(1, 10, T0, userId="u1"), msg(
        "track", 2, event="Refund", properties={"revenue": 4}, userId="u1")])
    changed = parse_config(CONFIG_YAML.replace(
        "lifetime_value: {aggregate: sum, of: properties.revenue, where: {event: Order Completed}}",
        "lifetime_value: {aggregate: sum, of: properties.revenue}",
    ))
    InboxLog(store).append("web", [order(3, 1, T0, userId="u1")])
    InboxWorker(store, changed).drain()
    assert traits_of(store, profile_of(store, "user_id", "u1"))["lifetime_value"] == 15


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
