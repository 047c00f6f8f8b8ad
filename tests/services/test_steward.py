"""Stewardship: merges and splits become constraints that later resolutions respect."""

from __future__ import annotations

import pytest
from tests.conftest import SAMPLE

from ucp.errors import Conflict, InputError, NotFound
from ucp.services import steward
from ucp.services.ingest import ingest_file
from ucp.services.profiles import get_profile
from ucp.services.resolution import build_resolver, resolve_all
from ucp.store.store import Store


@pytest.fixture
def loaded(store: Store, sample_config) -> Store:
    ingest_file(store, sample_config, "crm", SAMPLE / "crm.csv")
    ingest_file(store, sample_config, "shop", SAMPLE / "shop.jsonl")
    return store


def owner(store: Store, source: str, key: str) -> str:
    with store.read() as tx:
        return {(s, k): p for s, k, p in tx.memberships()}[(source, key)]


def test_merge_keeps_the_oldest_id_and_survives_a_full_resolve(
    loaded: Store, sample_config
) -> None:
    maria, test = owner(loaded, "crm", "003A3"), owner(loaded, "crm", "003A4")
    assert maria != test
    result = steward.merge(loaded, sample_config, [test, maria], actor="t", reason="same person")
    assert result.profile_ids == [min(maria, test)]
    resolve_all(loaded, build_resolver(sample_config))
    assert owner(loaded, "crm", "003A3") == owner(loaded, "crm", "003A4") == min(maria, test)
    # the retired id still resolves, and says it was redirected
    gone = max(maria, test)
    view = get_profile(loaded, gone)
    assert view.id == min(maria, test) and view.redirected_from == gone


def test_split_moves_records_out_and_stays_split(loaded: Store, sample_config) -> None:
    ann = owner(loaded, "crm", "003A1")
    result = steward.split(loaded, sample_config, ann, ["shop:c-100"], actor="t")
    assert len(result.profile_ids) == 2
    assert owner(loaded, "crm", "003A1") == owner(loaded, "crm", "003A5") == ann
    moved = owner(loaded, "shop", "c-100")
    assert moved != ann
    resolve_all(loaded, build_resolver(sample_config))
    assert owner(loaded, "shop", "c-100") == moved != owner(loaded, "crm", "003A1")


def test_revoking_a_split_joins_the_records_again(loaded: Store, sample_config) -> None:
    ann = owner(loaded, "crm", "003A1")
    result = steward.split(loaded, sample_config, ann, ["shop:c-100"], actor="t")
    for cid in result.constraint_ids:
        steward.revoke(loaded, sample_config, cid, actor="t")
    assert owner(loaded, "shop", "c-100") == ann
    assert steward.list_constraints(loaded) == []


def test_merge_then_revoke_splits_again(loaded: Store, sample_config) -> None:
    a, b = owner(loaded, "crm", "003A3"), owner(loaded, "crm", "003A4")
    (cid,) = steward.merge(loaded, sample_config, [a, b], actor="t").constraint_ids
    steward.revoke(loaded, sample_config, cid, actor="t")
    assert owner(loaded, "crm", "003A3") != owner(loaded, "crm", "003A4")


def test_bad_steward_requests_are_clear_errors(loaded: Store, sample_config) -> None:
    ann = owner(loaded, "crm", "003A1")
    with pytest.raises(InputError, match="at least two"):
        steward.merge(loaded, sample_config, [ann], actor="t")
    with pytest.raises(NotFound):
        steward.merge(loaded, sample_config, [ann, "p_nope"], actor="t")
    with pytest.raises(InputError, match="not in profile"):
        steward.split(loaded, sample_config, ann, ["crm:003A2"], actor="t")
    with pytest.raises(Conflict, match="at least one record"):
        steward.split(
            loaded, sample_config, ann, ["crm:003A1", "crm:003A5", "shop:c-100"], actor="t"
        )
    with pytest.raises(NotFound):
        steward.revoke(loaded, sample_config, 999, actor="t")


def test_decisions_are_audited_with_the_actor(loaded: Store, sample_config) -> None:
    a, b = owner(loaded, "crm", "003A3"), owner(loaded, "crm", "003A4")
    steward.merge(loaded, sample_config, [a, b], actor="key:k_1")
    with loaded.read() as tx:
        entries = [e for e in tx.audit_entries() if e["action"] != "ingest.completed"]
    assert [(e["actor"], e["action"]) for e in entries] == [("key:k_1", "profile.merge_requested")]
