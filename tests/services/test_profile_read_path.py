"""The fast paths of the profile API: bulk-stored records read back like row-by-row ones, the
one-query lookup and the bundled profile read agree with the plain queries, the key cache
honours revocation after its TTL, and batched read audits keep the chain valid."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from tests.conftest import SAMPLE

from ucp.errors import AuthError
from ucp.services import audit
from ucp.services import profiles as svc
from ucp.services.ingest import ingest_file
from ucp.services.keys import KeyCache, create_key, revoke_key
from ucp.services.resolution import build_resolver, resolve_all
from ucp.store import tables as t
from ucp.store.store import Store, now


def _payload(key: str, email: str, block: str = "b1") -> dict[str, object]:
    return {
        "source": "crm",
        "source_key": key,
        "hash": f"h-{key}",
        "raw": {"Email": email},
        "attributes": {"email": {"raw": email, "value": email, "flags": []}},
        "identifiers": [("email", email, True), ("crm_id", key, True)],
        "terms": [("email", email)],
        "blocking_keys": [block],
    }


def test_bulk_inserted_records_read_back_with_identifiers_terms_and_keys(store: Store) -> None:
    """`insert_new_records` (COPY / executemany) stores what the row-by-row path stores."""
    with store.write() as tx:
        tx.ensure_source("crm", "records", 1)
        ids = tx.insert_new_records(
            [_payload("C1", "ann@x.org"), _payload("C2", "bob@x.org")], now()
        )
        more = tx.insert_new_records([_payload("C3", "cy@x.org", "b2")], now())
    assert len(set(ids + more)) == 3 and min(more) > max(ids)
    with store.read() as tx:
        existing = tx.existing_records("crm", ["C1", "C2", "C3"])
        assert {k: r.id for k, r in existing.items()} == dict(
            zip(["C1", "C2", "C3"], ids + more, strict=True)
        )
        idents = tx.record_identifiers(ids)
        assert {(i["type"], i["value"]) for i in idents} == {
            ("email", "ann@x.org"),
            ("crm_id", "C1"),
            ("email", "bob@x.org"),
            ("crm_id", "C2"),
        }
        keys = [k for (k,) in tx.conn.execute(
            select(t.blocking_keys.c.key).where(t.blocking_keys.c.record_id == ids[0]))]
        # C1 and C2 share blocks, C3 has blocks of its own
        assert {rid for rid, _ in tx.block_holders(keys)} == set(ids)
        assert tx.records_holding([("email", "cy@x.org")]) == {more[0]}
        records = dict(tx.resolvable(ids))
    assert records[ids[0]][0].attributes["email"]["value"] == "ann@x.org"


def test_parallel_bulk_ingest_stores_what_a_serial_one_stores(
    store: Store, sample_config, tmp_path
) -> None:
    """Preparing chunks in worker processes changes nothing in what is stored or resolved."""
    serial = Store.open(f"sqlite:///{tmp_path}/serial.db")
    try:
        for target, workers in ((serial, 1), (store, 2)):
            report = ingest_file(
                target,
                sample_config,
                "crm",
                SAMPLE / "crm.csv",
                resolve=False,
                workers=workers,
                chunk_size=2,
            )
            assert report.rejected == 0
            resolve_all(target, build_resolver(sample_config, target))

        def snapshot(s: Store) -> tuple[object, ...]:
            with s.read() as tx:
                recs = tx.iter_resolvable()
                return tuple(sorted((r.key, r.identifiers, pid is not None) for _, r, pid in recs))

        assert snapshot(serial) == snapshot(store)
    finally:
        serial.close()


def test_lookup_and_bundled_read_agree_with_the_plain_queries(store: Store, sample_config) -> None:
    for source, name in (("crm", "crm.csv"), ("shop", "shop.jsonl")):
        ingest_file(store, sample_config, source, SAMPLE / name)
    ident = "phone:+1 (415) 555-0100"
    ids = svc.find_by_identifier(store, sample_config, ident)
    rows = svc.lookup_profiles(store, sample_config, ident)
    assert [r["id"] for r in rows] == ids and len(ids) == 1
    with store.read() as tx:
        assert rows[0] == tx.profile_row(ids[0])
        bundle = tx.profile_bundle(ids[0], 50)
        assert bundle is not None
        assert bundle["records"] == tx.profile_records(ids[0])
        assert bundle["ranks"] == tx.source_ranks()
        assert sorted(map(str, bundle["identifiers"])) == sorted(
            map(str, tx.profile_identifiers(ids[0]))
        )
        assert tx.profile_bundle("p_does_not_exist", 50) is None


def test_key_cache_honours_revocation_after_its_ttl(store: Store) -> None:
    key, secret = create_key(store, "support")
    clock = [100.0]
    cache = KeyCache(store, ttl=2.0, clock=lambda: clock[0])
    assert cache.authenticate(secret).id == key.id
    revoke_key(store, key.id)
    clock[0] += 1.9
    assert cache.cached(secret) is not None  # still trusted inside the TTL
    clock[0] += 0.2
    with pytest.raises(AuthError, match="revoked"):
        cache.authenticate(secret)
    with pytest.raises(AuthError, match="unknown"):
        cache.authenticate("ucp_nope")
    assert cache.cached("ucp_nope") is None  # unknown secrets are not remembered


def test_batched_read_audits_keep_the_chain_valid(store: Store) -> None:
    """Entries queued by the buffer land in order, between direct ones, and verify."""
    buffer = audit.AuditBuffer(store, interval=60)
    buffer.add("key:k1", "profile.read", "p_1", "r1", {"masked": False})  # not started: direct
    buffer.start()
    try:
        for n in range(5):
            buffer.add("key:k1", "profile.read", f"p_{n + 2}", None, {"masked": True})
        with store.write() as tx:
            audit.record(tx, "cli", "key.created", "k_2")
        with store.read() as tx:
            assert len(list(tx.audit_entries())) == 2  # five still queued
    finally:
        buffer.close()  # flushes
    with store.read() as tx:
        entries = list(tx.audit_entries())
    assert [e["subject"] for e in entries] == ["p_1", "k_2", *(f"p_{n + 2}" for n in range(5))]
    assert audit.verify(store).ok
