"""The store on both backends: migrations, record versions, identifiers, components, keys."""

from __future__ import annotations

from sqlalchemy import inspect

from ucp.domain.model import RecordKey
from ucp.store import migrations
from ucp.store.store import Store, now


def test_open_migrates_an_empty_database_to_head(store: Store) -> None:
    assert migrations.current_revision(store.engine) == migrations.head_revision()
    tables = set(inspect(store.engine).get_table_names())
    assert {
        "records",
        "record_versions",
        "identifiers",
        "links",
        "profiles",
        "profile_aliases",
        "events",
        "consent",
        "audit_log",
        "changes",
        "api_keys",
        "sources",
    } <= tables


def _insert(store: Store, key: str, idents: list[tuple[str, str, bool]]) -> int:
    with store.write() as tx:
        tx.ensure_source("crm", "records", 1)
        (rid,) = tx.insert_records(
            [
                {
                    "source": "crm",
                    "source_key": key,
                    "hash": key,
                    "raw": {"k": key},
                    "attributes": {},
                }
            ],
            now(),
        )
        tx.set_identifiers([(rid, idents)])
    return rid


def test_records_are_versioned_never_overwritten(store: Store) -> None:
    rid = _insert(store, "1", [])
    with store.write() as tx:
        tx.add_versions(
            [{"id": rid, "version": 2, "hash": "h2", "raw": {"k": 2}, "attributes": {"a": 1}}],
            now(),
        )
    with store.read() as tx:
        assert tx.existing_records("crm", ["1"])["1"].version == 2
        assert tx.counts()["record_versions"] == 2


def test_component_follows_only_linkable_identifiers(store: Store) -> None:
    a = _insert(store, "a", [("email", "ann@x", True)])
    b = _insert(store, "b", [("email", "ann@x", True), ("phone", "+1", True)])
    c = _insert(store, "c", [("phone", "+1", True)])
    d = _insert(store, "d", [("email", "test@test.com", False)])
    e = _insert(store, "e", [("email", "test@test.com", False)])
    with store.read() as tx:
        assert tx.component([a]) == {a, b, c}
        assert tx.component([d]) == {d}
        loaded = tx.resolvable([a, e])
    assert loaded[a][0].key == RecordKey("crm", "a")
    assert loaded[e][0].identifiers == ()


def test_insert_ignore_keeps_events_unique(store: Store) -> None:
    with store.write() as tx:
        tx.ensure_source("shop", "events", 2)
        tx.insert_events(
            [
                {
                    "source": "shop",
                    "event_key": "o1",
                    "name": "Order Completed",
                    "occurred_at": now(),
                    "received_at": now(),
                    "identifiers": {},
                    "properties": {"total": 1},
                }
            ],
            [[("email", "a@x")]],
        )
        assert tx.existing_event_keys("shop", ["o1", "o2"]) == {"o1"}


def test_reopening_an_up_to_date_store_is_a_no_op(db_url: str) -> None:
    Store.open(db_url).close()
    store = Store.open(db_url)
    assert migrations.current_revision(store.engine) == migrations.head_revision()
    store.close()
