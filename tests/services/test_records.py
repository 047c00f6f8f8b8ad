"""A source retracts records: profiles it held together split, history stays, and the partition
is exactly the batch partition of the records that remain (both backends)."""

from __future__ import annotations

import csv
import random
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ucp.config import load_config
from ucp.errors import NotFound
from ucp.services.ingest import ingest_file
from ucp.services.records import delete_records
from ucp.services.resolution import build_resolver, resolve_all
from ucp.store.store import Store
from ucp.synth import generate

from .test_resolution import _partition
from .test_resolution_changes import _store

HEADER = ["ContactId", "FirstName", "LastName", "Email", "Phone", "MailingStreet",
          "MailingCity", "MailingPostalCode", "MailingCountry", "Birthdate", "CreatedDate"]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("gen-delete")
    generate(out, persons=120, seed=9)
    return out


def _crm(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def test_deleting_the_bridge_splits_keeps_history_and_comes_back(
    store: Store, generated: Path, tmp_path: Path
) -> None:
    config = load_config(generated / "ucp.yaml")
    # A~B share an email, B~C a phone: one profile only because of B
    a = ["A1", "Ann", "Lee", "ann.lee@mail.com", "(415) 555-0100", "", "", "", "US", "", ""]
    b = ["B1", "Ann", "Lee", "ann.lee@mail.com", "(415) 555-0199", "", "", "", "US", "", ""]
    c = ["C1", "Ann", "Lee", "a.lee@work.com", "(415) 555-0199", "", "", "", "US", "", ""]
    ingest_file(store, config, "crm", _crm(tmp_path / "abc.csv", [a, b, c]))
    assert len(_partition(store)) == 1
    with store.read() as tx:
        (pid,) = {p for _, _, p in tx.memberships()}
        seq = tx.last_change_seq()
    before = datetime.now(UTC)

    report = delete_records(store, config, ["crm:B1"], "test")

    after = _partition(store)
    assert after == {frozenset({("crm", "A1")}), frozenset({("crm", "C1")})}
    assert report.profiles_updated == [pid] and len(report.profiles_after) == 2
    with store.read() as tx:
        kinds = [kind for kind, _, _ in tx.changes_since(seq)]
        assert "profile.split" in kinds and "profile.updated" in kinds
        assert tx.counts()["records"] == 2
        # history: as of before the deletion the profile still had all three records
        assert len(tx.records_as_of(pid, before)) == 3
    assert resolve_all(store, build_resolver(config, store)).changes == 0
    with pytest.raises(NotFound):
        delete_records(store, config, ["crm:B1"], "test")  # already deleted
    with pytest.raises(NotFound):
        delete_records(store, config, ["crm:A1", "crm:nope"], "test")  # all or nothing
    assert len(_partition(store)) == 2

    # the source sends B again, unchanged: it is back and joins A and C again
    ingest_file(store, config, "crm", _crm(tmp_path / "abc.csv", [a, b, c]))
    assert _partition(store) == {frozenset({("crm", "A1"), ("crm", "B1"), ("crm", "C1")})}


def test_deleting_the_only_record_deletes_the_profile(store: Store, generated: Path,
                                                      tmp_path: Path) -> None:
    config = load_config(generated / "ucp.yaml")
    row = ["Z1", "Zoe", "Kim", "zoe@mail.com", "", "", "", "", "US", "", ""]
    ingest_file(store, config, "crm", _crm(tmp_path / "z.csv", [row]))
    with store.read() as tx:
        (pid,) = {p for _, _, p in tx.memberships()}
    report = delete_records(store, config, ["crm:Z1"], "test")
    assert report.profiles_deleted == [pid] and report.profiles_after == []
    with store.read() as tx:
        assert tx.resolve_profile_id(pid) is None
        assert [k for k, p, _ in tx.changes_since(0) if p == pid][-1] == "profile.deleted"


def test_deletions_in_any_order_equal_batch_without_those_records(
    db_url: str, generated: Path, tmp_path: Path
) -> None:
    config = load_config(generated / "ucp.yaml")
    with (generated / "crm.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))[1:]
    doomed = sorted(random.Random(4).sample(range(len(rows)), 30))
    kept = [r for i, r in enumerate(rows) if i not in set(doomed)]
    sources = {"shop_customers": "shop_customers.jsonl", "newsletter": "newsletter.csv"}

    batch = _store(db_url, tmp_path, "batch")
    ingest_file(batch, config, "crm", _crm(tmp_path / "kept.csv", kept), resolve=False)
    for source, name in sources.items():
        ingest_file(batch, config, source, generated / name, resolve=False)
    resolve_all(batch, build_resolver(config, batch))
    expected = _partition(batch)
    batch.close()

    for seed in (1, 2):
        store = _store(db_url, tmp_path, f"incremental-{seed}")
        ingest_file(store, config, "crm", generated / "crm.csv")
        for source, name in sources.items():
            ingest_file(store, config, source, generated / name)
        keys = [f"crm:{rows[i][0]}" for i in doomed]
        random.Random(seed).shuffle(keys)
        for start in range(0, len(keys), 7):
            delete_records(store, config, keys[start:start + 7], "test")
        assert _partition(store) == expected, f"order seed {seed}"
        store.close()


def test_a_retracted_record_stays_out_of_must_links_and_within_reach_of_erasure(
    store: Store, generated: Path, tmp_path: Path
) -> None:
    from ucp.services import steward
    from ucp.services.erasure import find_scope

    config = load_config(generated / "ucp.yaml")
    a = ["M1", "Ann", "Lee", "ann.lee@mail.com", "", "", "", "", "US", "", ""]
    b = ["M2", "Zed", "Fox", "zed.fox@mail.com", "", "", "", "", "US", "", ""]
    ingest_file(store, config, "crm", _crm(tmp_path / "m.csv", [a, b]))
    with store.read() as tx:
        pids = sorted({p for _, _, p in tx.memberships() if p})
    steward.merge(store, config, pids, "test")  # must-link M1 ~ M2
    delete_records(store, config, ["crm:M2"], "test")
    assert _partition(store) == {frozenset({("crm", "M1")})}
    resolve_all(store, build_resolver(config, store))
    assert _partition(store) == {frozenset({("crm", "M1")})}  # the must-link cannot revive M2
    with store.read() as tx:
        scope = find_scope(tx, config, "email:zed.fox@mail.com")
        assert scope.records and not scope.profiles  # the retracted record, still erasable
