"""The REST API over HTTP semantics: auth (401 vs 403), lookups, listing, problem details."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from tests.conftest import SAMPLE

from ucp.api import create_app
from ucp.services.ingest import ingest_file
from ucp.services.keys import create_key, revoke_key
from ucp.settings import Settings
from ucp.store.store import Store


@pytest.fixture
def client(store: Store, sample_config) -> Iterator[TestClient]:
    for source, name in (("crm", "crm.csv"), ("shop", "shop.jsonl"), ("orders", "orders.jsonl")):
        ingest_file(store, sample_config, source, SAMPLE / name)
    app = create_app(Settings(database_url="sqlite://"), config=sample_config, store=store)
    with TestClient(app) as c:
        yield c


def auth(store: Store, role: str) -> dict[str, str]:
    _, secret = create_key(store, role)
    return {"Authorization": f"Bearer {secret}"}


def test_healthz_needs_no_key(client: TestClient) -> None:
    assert client.get("/healthz").json()["status"] == "ok"


def test_missing_and_bad_keys_are_401_problems(client: TestClient, store: Store) -> None:
    r = client.get("/v1/profiles")
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["title"] == "unauthorized"
    r = client.get("/v1/profiles", headers={"Authorization": "Bearer ucp_nope"})
    assert r.status_code == 401 and r.json()["detail"] == "unknown API key"


def test_revoked_key_is_refused(client: TestClient, store: Store) -> None:
    key, secret = create_key(store, "admin")
    revoke_key(store, key.id)
    r = client.get("/v1/profiles", headers={"Authorization": f"Bearer {secret}"})
    assert r.status_code == 401 and "revoked" in r.json()["detail"]


def test_ingest_role_is_forbidden_from_profiles(client: TestClient, store: Store) -> None:
    r = client.get("/v1/profiles", headers=auth(store, "ingest"))
    assert r.status_code == 403 and r.json()["title"] == "forbidden"


def test_lookup_by_email_is_standardized_and_returns_the_profile(
    client: TestClient, store: Store
) -> None:
    headers = auth(store, "admin")
    r = client.get(
        "/v1/profiles", params={"identifier": "email: Ann.Lee@AcmeMail.com "}, headers=headers
    )
    assert r.status_code == 200
    (summary,) = r.json()["data"]
    assert summary["record_count"] == 3
    profile = client.get(f"/v1/profiles/{summary['id']}", headers=headers).json()
    assert {(rec["source"], rec["source_key"]) for rec in profile["records"]} == {
        ("crm", "003A1"),
        ("crm", "003A5"),
        ("shop", "c-100"),
    }
    assert [e["key"] for e in profile["events"]] == ["o-3", "o-1"]
    assert {
        "type": "email",
        "value": "ann.lee@acmemail.com",
        "linkable": True,
        "records": 3,
    } in profile["identifiers"]


def test_support_role_can_look_up_but_not_list(client: TestClient, store: Store) -> None:
    headers = auth(store, "support")
    ok = client.get("/v1/profiles", params={"identifier": "phone:+14155550111"}, headers=headers)
    assert ok.status_code == 200 and len(ok.json()["data"]) == 1
    assert client.get("/v1/profiles", headers=headers).status_code == 403


def test_listing_pages_with_a_cursor(client: TestClient, store: Store) -> None:
    headers = auth(store, "analyst")
    seen, cursor = [], None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = client.get("/v1/profiles", params=params, headers=headers).json()
        seen += [p["id"] for p in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 5


def test_unknown_profile_and_bad_identifier_are_problems(client: TestClient, store: Store) -> None:
    headers = auth(store, "admin")
    r = client.get("/v1/profiles/p_missing", headers=headers)
    assert r.status_code == 404 and r.json()["instance"] == "/v1/profiles/p_missing"
    r = client.get("/v1/profiles", params={"identifier": "emailonly"}, headers=headers)
    assert r.status_code == 400 and r.json()["field"] == "identifier"
    r = client.get("/v1/profiles", params={"limit": 0}, headers=headers)
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "query.limit"


def test_openapi_is_served(client: TestClient) -> None:
    assert "/v1/profiles/{profile_id}" in client.get("/openapi.json").json()["paths"]


def test_change_feed_is_ordered_and_resumable(client: TestClient, store: Store) -> None:
    headers = auth(store, "steward")
    first = client.get("/v1/changes", params={"limit": 2}, headers=headers).json()
    assert [c["seq"] for c in first["data"]] == [1, 2]
    rest = client.get("/v1/changes", params={"after": first["next_cursor"]}, headers=headers).json()
    seqs = [c["seq"] for c in first["data"] + rest["data"]]
    assert seqs == sorted(seqs) and len(seqs) == len(set(seqs))
    types = {c["type"] for c in first["data"] + rest["data"]}
    assert "profile.created" in types
    empty = client.get("/v1/changes", params={"after": rest["next_cursor"]}, headers=headers)
    assert empty.json() == {"data": [], "next_cursor": rest["next_cursor"]}


def test_profile_has_a_golden_record_with_provenance(client: TestClient, store: Store) -> None:
    headers = auth(store, "admin")
    (summary,) = client.get(
        "/v1/profiles", params={"identifier": "crm_id:003A2"}, headers=headers
    ).json()["data"]
    golden = client.get(f"/v1/profiles/{summary['id']}", headers=headers).json()["golden"]
    # CRM (trust rank 1) says Robert, the shop (rank 2) says Bob
    assert golden["given_name"]["value"] == "Robert"
    assert golden["given_name"]["provenance"]["source"] == "crm"
    assert [c["value"] for c in golden["given_name"]["candidates"]] == ["Bob"]


def test_pins_override_survivorship_and_as_of_shows_the_past(
    client: TestClient, store: Store, sample_config
) -> None:
    import time
    from datetime import UTC, datetime

    headers = auth(store, "steward")
    (summary,) = client.get("/v1/profiles", params={"identifier": "crm_id:003A2"},
                            headers=headers).json()["data"]
    pid = summary["id"]
    before = datetime.now(UTC)
    time.sleep(0.05)
    r = client.put(f"/v1/profiles/{pid}/attributes/given_name", json={"value": "Rob"},
                   headers=headers)
    assert r.status_code == 200
    golden = client.get(f"/v1/profiles/{pid}", headers=headers).json()["golden"]
    assert (golden["given_name"]["value"], golden["given_name"]["rule"]) == ("Rob", "steward_pin")
    past = client.get(f"/v1/profiles/{pid}", params={"as_of": before.isoformat()},
                      headers=headers).json()
    assert past["golden"]["given_name"]["value"] == "Robert"
    assert len(past["records"]) == 2
    history = client.get(f"/v1/profiles/{pid}/history", headers=headers).json()
    assert [c["type"] for c in history["changes"]][-1] == "profile.updated"
    assert client.delete(f"/v1/profiles/{pid}/attributes/given_name",
                         headers=headers).json()["pinned"] is False
    r = client.put(f"/v1/profiles/{pid}/attributes/favourite", json={"value": "x"},
                   headers=headers)
    assert r.status_code == 400 and r.json()["field"] == "attribute"
    r = client.put(f"/v1/profiles/{pid}/attributes/given_name", json={"value": "x"},
                   headers=auth(store, "analyst"))
    assert r.status_code == 403


def test_as_of_before_the_profile_existed_is_404(client: TestClient, store: Store) -> None:
    headers = auth(store, "admin")
    (summary,) = client.get("/v1/profiles", params={"identifier": "crm_id:003A2"},
                            headers=headers).json()["data"]
    r = client.get(f"/v1/profiles/{summary['id']}", params={"as_of": "2001-01-01T00:00:00Z"},
                   headers=headers)
    assert r.status_code == 404


def test_merge_and_split_over_http(client: TestClient, store: Store) -> None:
    headers = auth(store, "steward")
    ids = [client.get("/v1/profiles", params={"identifier": f"crm_id:{k}"},
                      headers=headers).json()["data"][0]["id"] for k in ("003A3", "003A4")]
    merged = client.post("/v1/profiles/merge", json={"profile_ids": ids}, headers=headers).json()
    assert merged["profile_ids"] == [min(ids)]
    moved = client.get(f"/v1/profiles/{max(ids)}", headers=headers).json()
    assert moved["redirected_from"] == max(ids) and moved["id"] == min(ids)
    r = client.post(f"/v1/profiles/{min(ids)}/split", json={"records": ["crm:003A4"]},
                    headers=headers)
    assert r.status_code == 200 and len(r.json()["profile_ids"]) == 2
    listed = client.get("/v1/constraints", headers=headers).json()["data"]
    assert {c["kind"] for c in listed} == {"cannot_link"}
    r = client.post("/v1/profiles/merge", json={"profile_ids": [ids[0]]}, headers=headers)
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "body.profile_ids"


def test_search_by_name_email_and_phone_prefix(client: TestClient, store: Store) -> None:
    headers = auth(store, "analyst")

    def search(q: str, **extra: object) -> dict:
        r = client.get("/v1/profiles", params={"q": q, **extra}, headers=headers)
        assert r.status_code == 200, r.text
        return r.json()

    (ann,) = search("ann le")["data"]
    assert ann["record_count"] == 3
    assert search("ANN.LEE@acme")["data"] == [ann]
    assert len(search("415 555")["data"]) == 2  # Ann and Robert share the area code prefix
    first = search("415 555", limit=1)
    second = search("415 555", limit=1, cursor=first["next_cursor"])
    assert first["next_cursor"] and second["next_cursor"] is None
    assert first["data"][0]["id"] < second["data"][0]["id"]
    assert search("garcia")["data"][0]["record_count"] == 2
    r = client.get("/v1/profiles", params={"q": "a"}, headers=headers)
    assert r.status_code == 400 and r.json()["field"] == "q"
