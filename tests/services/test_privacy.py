"""Data subject requests: erasure leaves no trace, spares a wrongly merged other person, keeps
the audit chain verifiable; access exports everything; rectification pins; audit tampering."""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update
from tests.privacy_support import (
    ANN_EMAIL,
    ANN_RAW,
    SECRET,
    config,
    events_ingestor,
    find_everywhere,
    load_people,
    segment,
    track_ann,
)

from ucp.errors import ConfigError, Conflict
from ucp.services import audit, privacy, steward
from ucp.store import tables as t
from ucp.store.store import Store


@pytest.fixture
def loaded(store: Store, tmp_path: Path) -> Store:
    load_people(store, config(), tmp_path)
    return store


def profiles_of(store: Store, typ: str, value: str) -> list[str]:
    with store.read() as tx:
        return tx.profiles_by_identifier(typ, value)


def test_erasure_by_email_leaves_no_trace_and_spares_the_wrongly_merged_person(
    loaded: Store,
) -> None:
    cfg = config()
    (shared,) = profiles_of(loaded, "email", "annabel.quintero@bluewren.co.uk")
    assert profiles_of(loaded, "email", "bart.q@bluewren.co.uk") == [shared]
    # PII in places beyond the records: a steward's reason, a pin, an earlier access request
    (cyrus,) = profiles_of(loaded, "email", "cyrus@heathmail.co.uk")
    merged = steward.merge(
        loaded,
        cfg,
        [shared, cyrus],
        "cli:eve",
        reason="Cyrus is Annabel.Quintero@Bluewren.co.uk's partner?",
    )
    steward.revoke(loaded, cfg, merged.constraint_ids[0], "cli:eve")
    (shared,) = profiles_of(loaded, "email", "bart.q@bluewren.co.uk")  # ids moved on revoke
    privacy.create_request(loaded, cfg, "access", ANN_EMAIL, "cli:eve")

    view = privacy.create_request(loaded, cfg, "erasure", ANN_EMAIL, "cli:eve", secret=SECRET)

    assert view["status"] == "completed" and view["subject"].startswith("$erased:")
    report = view["result"]["erasure"]
    assert report["records"] == 4  # CRM C1, CRM C3 (her mobile only), newsletter, web
    assert report["events"] == 2 and report["identifiers_suppressed"] >= 5
    assert find_everywhere(loaded, ANN_RAW) == []
    # Bob keeps his records, his order and the profile id
    assert profiles_of(loaded, "email", "bart.q@bluewren.co.uk") == [shared]
    with loaded.read() as tx:
        keys = {(r["source"], r["source_key"]) for r in tx.profile_records(shared)}
        assert keys == {("crm", "C2"), ("newsletter", "bart.q@bluewren.co.uk")}
        assert tx.counts()["events"] == 1
        kinds = [c["type"] for c in tx.changes_after(0, 1000)]
    assert "profile.updated" in kinds
    assert audit.verify(loaded).ok


def test_erasure_by_profile_id_removes_the_profile_and_emits_profile_erased(
    loaded: Store,
) -> None:
    cfg = config()
    (pid,) = profiles_of(loaded, "email", "cyrus@heathmail.co.uk")
    view = privacy.create_request(loaded, cfg, "erasure", pid, "cli:eve", secret=SECRET)
    assert view["result"]["erasure"]["profiles_erased"] == [pid]
    with loaded.read() as tx:
        assert tx.resolve_profile_id(pid) is None
        erased = [c for c in tx.changes_after(0, 1000) if c["type"] == "profile.erased"]
    assert [c["profile_id"] for c in erased] == [pid]
    assert find_everywhere(loaded, ["cyrus@heathmail.co.uk", "Vandermeer", "+447700900777"]) == []


def test_erasure_without_a_secret_refuses_and_changes_nothing(loaded: Store) -> None:
    with loaded.read() as tx:
        before = tx.counts()
    with pytest.raises(ConfigError, match="UCP_SECRET_KEY"):
        privacy.create_request(loaded, config(), "erasure", ANN_EMAIL, "cli:eve", secret=None)
    with loaded.read() as tx:
        assert tx.counts() == before
        assert tx.conn.execute(select(t.privacy_requests)).first() is None


def test_access_export_holds_every_part_and_zips_per_table(loaded: Store) -> None:
    view = privacy.create_request(loaded, config(), "access", ANN_EMAIL, "cli:eve")
    export = privacy.request_export(loaded, view["id"])
    (profile,) = export["profiles"]
    assert {
        "golden",
        "records",
        "events",
        "consent",
        "traits",
        "links",
        "memberships",
        "changes",
        "audit",
    } <= set(profile)
    assert all(r["versions"] for r in profile["records"])
    assert {e["key"] for e in profile["events"]} >= {"o-1", "o-2"}
    assert profile["consent"]["history"]
    assert any(
        a["action"] == "profile.exported"
        for a in privacy.access_export(loaded, config(), ANN_EMAIL)["profiles"][0]["audit"]
    )
    names = set(zipfile.ZipFile(io.BytesIO(privacy.export_zip(export))).namelist())
    assert {
        "export.json",
        "golden.csv",
        "record_versions.csv",
        "events.csv",
        "consent.csv",
        "audit.csv",
    } <= names


def test_rectification_pins_the_corrected_value(loaded: Store) -> None:
    cfg = config()
    (pid,) = profiles_of(loaded, "email", "cyrus@heathmail.co.uk")
    privacy.create_request(
        loaded, cfg, "rectification", pid, "cli:eve", changes={"family_name": "Vandermeere"}
    )
    golden = privacy.read_profile(loaded, cfg, pid, "cli:eve")["golden"]
    assert golden["family_name"]["value"] == "Vandermeere"
    with pytest.raises(Conflict):  # the shared phone names one profile, the mobile another
        privacy.create_request(
            loaded, cfg, "rectification", "crm_id:C9", "cli:eve", changes={"family_name": "X"}
        )


def test_erasure_of_a_profile_with_1000_events_takes_under_a_second(
    store: Store, tmp_path: Path
) -> None:
    cfg = config()
    load_people(store, cfg, tmp_path)
    segment(events_ingestor(store, cfg), [track_ann(n) for n in range(2, 1002)])
    started = time.perf_counter()
    view = privacy.create_request(store, cfg, "erasure", ANN_EMAIL, "cli:eve", secret=SECRET)
    seconds = time.perf_counter() - started
    assert view["result"]["erasure"]["events"] == 1002
    assert seconds < 1.0, seconds


# -- the audit chain -----------------------------------------------------------------------------
def _entries(store: Store) -> list[dict]:
    with store.read() as tx:
        return list(tx.audit_entries())


@pytest.fixture
def chained(loaded: Store) -> Store:
    cfg = config()
    (pid,) = profiles_of(loaded, "email", "cyrus@heathmail.co.uk")
    for _ in range(3):
        privacy.read_profile(loaded, cfg, pid, "cli:eve")
    assert audit.verify(loaded).ok
    return loaded


def test_audit_verify_names_an_edited_entry(chained: Store) -> None:
    second = _entries(chained)[1]
    with chained.write() as tx:
        tx.conn.execute(
            update(t.audit_log).where(t.audit_log.c.id == second["id"]).values(actor="cli:mallory")
        )
    result = audit.verify(chained)
    assert (result.ok, result.first_bad) == (False, second["id"])
    assert "content" in (result.reason or "")


def test_audit_verify_names_the_entry_after_a_deleted_one(chained: Store) -> None:
    entries = _entries(chained)
    with chained.write() as tx:
        tx.conn.execute(delete(t.audit_log).where(t.audit_log.c.id == entries[1]["id"]))
    result = audit.verify(chained)
    assert (result.ok, result.first_bad) == (False, entries[2]["id"])


def test_audit_verify_names_the_first_reordered_entry(chained: Store) -> None:
    a, b = _entries(chained)[1:3]
    fields = (
        "occurred_at",
        "actor",
        "action",
        "subject",
        "request_id",
        "details",
        "prev_hash",
        "hash",
    )
    with chained.write() as tx:
        for row, other in ((a, b), (b, a)):
            tx.conn.execute(
                update(t.audit_log)
                .where(t.audit_log.c.id == row["id"])
                .values(**{f: other[f] for f in fields})
            )
    result = audit.verify(chained)
    assert (result.ok, result.first_bad) == (False, a["id"])


def test_tombstones_keep_the_chain_valid_but_not_other_edits(chained: Store) -> None:
    from ucp.domain.audit import tombstone

    entry = _entries(chained)[0]
    with chained.write() as tx:
        tx.conn.execute(
            update(t.audit_log)
            .where(t.audit_log.c.id == entry["id"])
            .values(details={k: tombstone(v) for k, v in entry["details"].items()})
        )
    assert audit.verify(chained).ok
    with chained.write() as tx:
        tx.conn.execute(
            update(t.audit_log)
            .where(t.audit_log.c.id == entry["id"])
            .values(details={**entry["details"], "extra": 1})
        )
    assert not audit.verify(chained).ok
