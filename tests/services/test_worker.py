"""Applying collected messages: anonymous visitors, merges, aliases, groups, late events,
idempotency, four concurrent workers on PostgreSQL, and NATS JetStream."""

from __future__ import annotations

import asyncio
import random
import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from tests.realtime_support import realtime_config

from ucp.services.collect import InboxLog
from ucp.services.traits import profile_traits, rebuild_traits
from ucp.services.worker import InboxWorker, Message, MessageApplier
from ucp.store.store import Store

T0 = datetime(2024, 6, 1, 12, tzinfo=UTC)


def msg(type_: str, n: int | str, **fields: Any) -> dict[str, Any]:
    received = fields.pop("received", T0 + timedelta(minutes=1))
    body = {"type": type_, "messageId": f"m{n}", "receivedAt": received.isoformat(), **fields}
    body.setdefault("timestamp", received.isoformat())
    return body


def as_messages(payloads: list[dict[str, Any]]) -> list[Message]:
    return [Message("web", p["messageId"], p["type"], p,
                    datetime.fromisoformat(p["receivedAt"])) for p in payloads]


def order(n: int, revenue: float, when: datetime, **ids: str) -> dict[str, Any]:
    return msg("track", n, event="Order Completed", properties={"revenue": revenue},
               timestamp=when.isoformat(), **ids)


def apply_inbox(store: Store, payloads: list[dict[str, Any]]) -> None:
    InboxLog(store).append("web", payloads)
    InboxWorker(store, realtime_config()).drain()


def profile_of(store: Store, id_type: str, value: str) -> str:
    with store.read() as tx:
        found = tx.profiles_by_identifier(id_type, value)
    assert len(found) == 1, found
    return found[0]


def traits_of(store: Store, pid: str) -> dict[str, Any]:
    with store.read() as tx:
        return profile_traits(tx, pid)["values"]


def test_anonymous_events_merge_into_the_person_when_identified(store: Store) -> None:
    """An unknown anonymousId gets its own profile; the identify joins it and the older
    (anonymous) profile id survives, carrying the traits of both."""
    apply_inbox(store, [order(1, 10, T0, anonymousId="anon-1")])
    anonymous = profile_of(store, "anonymous_id", "anon-1")
    assert traits_of(store, anonymous)["lifetime_value"] == 10
    apply_inbox(store, [order(2, 5, T0, userId="u-1")])
    person = profile_of(store, "user_id", "u-1")
    assert person != anonymous
    apply_inbox(store, [msg("identify", 3, userId="u-1", anonymousId="anon-1",
                            traits={"email": "ann@example.com"})])
    merged = profile_of(store, "user_id", "u-1")
    assert merged == anonymous == profile_of(store, "anonymous_id", "anon-1")
    assert traits_of(store, merged)["lifetime_value"] == 15
    assert traits_of(store, merged)["order_count"] == 2
    with store.read() as tx:
        assert tx.resolve_profile_id(person) == (merged, True)
        assert tx.traits_of(person) == ({}, None)  # the retired id keeps no stale traits


def test_identify_traits_merge_like_segment(store: Store) -> None:
    apply_inbox(store, [msg("identify", 1, userId="u1", traits={"email": "a@example.com"})])
    apply_inbox(store, [msg("identify", 2, userId="u1", traits={"firstName": "Ann"})])
    with store.read() as tx:
        raw = tx.current_raw("web", ["u1"])["u1"]
    assert raw["traits"] == {"email": "a@example.com", "firstName": "Ann"}


def test_alias_and_group(store: Store) -> None:
    apply_inbox(store, [order(1, 1, T0, anonymousId="old-anon"), order(2, 2, T0, userId="u1"),
                        msg("group", 3, userId="u1", groupId="acme", traits={"plan": "pro"})])
    apply_inbox(store, [msg("alias", 4, userId="u1", previousId="old-anon")])
    pid = profile_of(store, "user_id", "u1")
    assert pid == profile_of(store, "anonymous_id", "old-anon")
    assert traits_of(store, pid)["order_count"] == 2
    with store.read() as tx:
        groups = tx.group_memberships_of([("user_id", "u1")])
    assert [(g["group_id"], g["traits"]) for g in groups] == [("acme", {"plan": "pro"})]


def test_late_events_keep_their_times_and_land_in_order(store: Store) -> None:
    received = T0 + timedelta(hours=2)
    apply_inbox(store, [order(1, 20, T0, userId="u1", received=received)])
    apply_inbox(store, [order(2, 10, T0 - timedelta(days=3), userId="u1", received=received)])
    pid = profile_of(store, "user_id", "u1")
    assert traits_of(store, pid)["last_order_at"] == T0.isoformat()
    with store.read() as tx:
        events = {e["event_key"]: e for e in tx.profile_event_rows([pid])[pid]}
    occurred = events["m2"]["occurred_at"].replace(tzinfo=UTC)
    assert occurred == T0 - timedelta(days=3)
    assert events["m2"]["received_at"].replace(tzinfo=UTC) == received


def test_redelivered_messages_are_applied_once(store: Store) -> None:
    applier = MessageApplier(store, realtime_config())
    batch = as_messages([order(i, 1, T0, userId="u1") for i in range(5)])
    first = applier.apply_messages(batch)
    again = applier.apply_messages(batch[2:] + as_messages([order(9, 1, T0, userId="u1")]))
    assert (first.applied, again.applied, again.duplicates) == (5, 1, 3)
    assert traits_of(store, profile_of(store, "user_id", "u1"))["order_count"] == 6


def test_a_message_the_mapping_refuses_is_marked_failed(store: Store) -> None:
    apply_inbox(store, [msg("identify", 1, userId="u1", traits={"email": {"nested": 1}}),
                        msg("identify", 2, userId="u2")])
    with store.read() as tx:
        rows = tx.inbox_rows("web", ["m1", "m2"])
    assert rows["m2"]["status"] == "applied"
    assert rows["m1"]["status"] == "failed" and "traits.email" in rows["m1"]["error"]


@pytest.mark.postgres
def test_four_workers_on_postgresql_lose_no_update(pg_url: str) -> None:
    """Four threads apply interleaved batches touching the same people (orders, identifies
    that merge anonymous profiles): every order counts once, and rebuild agrees."""
    from tests.conftest import _truncate_all

    _truncate_all(pg_url)
    store = Store.open(pg_url)
    config = realtime_config()
    rng = random.Random(7)
    users = [f"u{i}" for i in range(12)]
    payloads: list[dict[str, Any]] = []
    expected: dict[str, int] = dict.fromkeys(users, 0)
    for n in range(600):
        user = rng.choice(users)
        if n % 10 == 0:
            payloads.append(msg("identify", n, userId=user, anonymousId=f"anon-{user}"))
        elif n % 3 == 0:
            payloads.append(order(n, 1, T0, anonymousId=f"anon-{user}"))
            expected[user] += 1
        else:
            payloads.append(order(n, 1, T0, userId=user))
            expected[user] += 1
    batches = [as_messages(payloads[i:i + 25]) for i in range(0, len(payloads), 25)]
    errors: list[BaseException] = []

    def run(part: list[list[Message]]) -> None:
        applier = MessageApplier(store, config)
        try:
            for batch in part:
                applier.apply_messages(batch)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(batches[i::4],)) for i in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    with store.read() as tx:
        assert tx.inbox_counts() == {"applied": 600}
        incremental = tx.all_traits()
    for user in users:
        pid = profile_of(store, "user_id", user)
        assert traits_of(store, pid)["order_count"] == expected[user], user
    rebuild_traits(store, config, at=datetime.now(UTC))
    with store.read() as tx:
        rebuilt = tx.all_traits()
    strip = {"days_since_last_order", "orders_30d", "last_seen_at", "last_order_at"}
    assert {p: {k: v for k, v in t.items() if k not in strip} for p, t in incremental.items()} \
        == {p: {k: v for k, v in t.items() if k not in strip} for p, t in rebuilt.items()}
    store.close()


def test_nats_jetstream_round_trip(store: Store) -> None:
    """Publish through JetStream with acks, consume with a durable pull consumer; a message
    published twice (a collector retry after a lost ack) is applied once."""
    from ucp.connectors.nats_bus import NatsLog
    from ucp.services.worker import run_bus_worker

    name = f"UCP_TEST_{uuid.uuid4().hex[:8].upper()}"
    bus = NatsLog("nats://127.0.0.1:4222", name, f"ucptest.{name.lower()}")

    async def scenario() -> int:
        try:
            await asyncio.wait_for(bus.connect(), 5)
        except Exception as exc:  # noqa: BLE001
            pytest.skip(f"NATS at 127.0.0.1:4222 unreachable: {type(exc).__name__}")
        try:
            batch = [order(i, 2, T0, userId="nats-user") for i in range(50)]
            await bus.append("web", batch)
            await bus.append("web", batch[:10])
            return await run_bus_worker(store, realtime_config(), bus, durable="w",
                                        batch_size=20, idle_exit=1.0)
        finally:
            await bus.delete_stream()
            await bus.close()

    consumed = asyncio.run(scenario())
    assert consumed == 50  # the JetStream duplicate window dropped the republished ten
    pid = profile_of(store, "user_id", "nats-user")
    assert traits_of(store, pid)["lifetime_value"] == 100


class _FlakyBus:
    """An in-memory stand-in for `NatsLog`: the first acknowledgement fails, and what was not
    acknowledged is delivered again (as JetStream does after its ack wait)."""

    def __init__(self, payloads: list[dict[str, Any]]) -> None:
        self.pending = list(payloads)
        self.ack_failures = 1

    async def subscribe(self, durable: str) -> None:
        return None

    async def fetch(self, batch: int, timeout: float = 1.0) -> list[Any]:
        from ucp.connectors.nats_bus import BusMessage

        return [BusMessage("web", p, p) for p in self.pending[:batch]]

    async def ack(self, messages: list[Any]) -> None:
        if self.ack_failures:
            self.ack_failures -= 1
            raise ConnectionError("ack lost")
        done = {id(m.handle) for m in messages}
        self.pending = [p for p in self.pending if id(p) not in done]


def test_bus_worker_survives_a_failed_ack_and_applies_the_redelivery_once(store: Store) -> None:
    """A batch whose acknowledgement fails is delivered again; the worker keeps running and the
    inbox recognises the messages it already applied."""
    from ucp.services.worker import run_bus_worker

    bus = _FlakyBus([order(i, 3, T0, userId="flaky") for i in range(8)])
    consumed = asyncio.run(run_bus_worker(store, realtime_config(), bus, batch_size=5,
                                          idle_exit=0.0))
    assert consumed == 8 and bus.pending == []
    with store.read() as tx:
        assert tx.inbox_counts() == {"applied": 8}
    assert traits_of(store, profile_of(store, "user_id", "flaky"))["order_count"] == 8
