"""Privacy over HTTP: DSRs with exports, consent reads and writes, purpose-scoped reads and
listings, suppressions; the erasure refusal without a secret is a clear problem."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.privacy_support import ANN_EMAIL, SECRET, config, load_people

from ucp.api import create_app
from ucp.services.keys import create_key
from ucp.settings import Settings
from ucp.store.store import Store


def _client(store: Store, secret: bytes | None) -> TestClient:
    settings = Settings(database_url="sqlite://", secret_key=secret.decode() if secret else None)
    return TestClient(create_app(settings, config=config(), store=store))


@pytest.fixture
def api(store: Store, tmp_path: Path) -> Iterator[tuple[TestClient, Store]]:
    load_people(store, config(), tmp_path)
    with _client(store, SECRET) as client:
        yield client, store


def auth(store: Store, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_key(store, role)[1]}"}


def pid(client: TestClient, store: Store, ident: str) -> str:
    page = client.get("/v1/profiles", params={"identifier": ident}, headers=auth(store, "admin"))
    return page.json()["data"][0]["id"]


def test_access_request_and_its_exports(api) -> None:
    client, store = api
    admin = auth(store, "admin")
    r = client.post(
        "/v1/privacy/requests", json={"type": "access", "subject": ANN_EMAIL}, headers=admin
    )
    assert r.status_code == 201 and r.json()["status"] == "completed"
    rid = r.json()["id"]
    assert client.get(f"/v1/privacy/requests/{rid}", headers=admin).json()["export_available"]
    export = client.get(f"/v1/privacy/requests/{rid}/export", headers=admin).json()
    assert export["profiles"][0]["records"]
    z = client.get(f"/v1/privacy/requests/{rid}/export", params={"format": "zip"}, headers=admin)
    assert z.headers["content-type"] == "application/zip"
    assert "golden.csv" in zipfile.ZipFile(io.BytesIO(z.content)).namelist()


def test_erasure_over_http_then_lift_the_suppression(api) -> None:
    client, store = api
    admin = auth(store, "admin")
    r = client.post(
        "/v1/privacy/requests", json={"type": "erasure", "subject": ANN_EMAIL}, headers=admin
    )
    assert r.status_code == 201 and r.json()["result"]["erasure"]["records"] == 4
    listed = client.get("/v1/privacy/suppressions", headers=admin).json()["data"]
    assert listed and all(len(s["value_hash"]) == 64 for s in listed)
    gone = client.get("/v1/profiles", params={"identifier": ANN_EMAIL}, headers=admin).json()
    assert gone["data"] == []
    lift = client.delete(
        "/v1/privacy/suppressions", params={"identifier": ANN_EMAIL}, headers=admin
    )
    assert lift.status_code == 200
    r = client.delete(f"/v1/privacy/suppressions/{listed[-1]['id']}", headers=admin)
    assert r.status_code in (200, 404)


def test_erasure_without_a_secret_is_a_clear_problem(store: Store, tmp_path: Path) -> None:
    load_people(store, config(), tmp_path)
    with _client(store, None) as client:
        r = client.post(
            "/v1/privacy/requests",
            json={"type": "erasure", "subject": ANN_EMAIL},
            headers=auth(store, "admin"),
        )
    assert r.status_code == 500 and "UCP_SECRET_KEY" in r.json()["detail"]
    assert r.headers["content-type"] == "application/problem+json"


def test_consent_read_write_and_purpose_scoped_reads(api) -> None:
    client, store = api
    cyrus = pid(client, store, "email:cyrus@heathmail.co.uk")
    analyst, support = auth(store, "analyst"), auth(store, "support")
    r = client.get(f"/v1/profiles/{cyrus}", params={"purpose": "email_marketing"}, headers=analyst)
    assert r.status_code == 403 and r.json()["title"] == "consent required"
    listed = client.get("/v1/profiles", params={"purpose": "email_marketing"}, headers=analyst)
    assert cyrus not in [p["id"] for p in listed.json()["data"]]
    r = client.put(
        f"/v1/profiles/{cyrus}/consent",
        headers=support,
        json={
            "purpose": "email_marketing",
            "status": "granted",
            "channel": "email",
            "evidence": {"call": "c-7"},
        },
    )
    assert r.status_code == 200 and r.json()["status"] == "granted"
    assert (
        client.get(
            f"/v1/profiles/{cyrus}", params={"purpose": "email_marketing"}, headers=analyst
        ).status_code
        == 200
    )
    listed = client.get("/v1/profiles", params={"purpose": "email_marketing"}, headers=analyst)
    assert cyrus in [p["id"] for p in listed.json()["data"]]
    history = client.get(f"/v1/profiles/{cyrus}/consent", headers=analyst).json()["history"]
    assert history[-1]["evidence"] == {}  # evidence is for roles with PII access
    r = client.put(
        f"/v1/profiles/{cyrus}/consent",
        headers=support,
        json={"purpose": "nope", "status": "granted"},
    )
    assert r.status_code == 400 and r.json()["field"] == "purpose"


def test_profile_reads_are_audited_with_the_key_and_request_id(api) -> None:
    client, store = api
    cyrus = pid(client, store, "email:cyrus@heathmail.co.uk")
    key, secret = create_key(store, "support")
    client.get(
        f"/v1/profiles/{cyrus}",
        headers={"Authorization": f"Bearer {secret}", "x-request-id": "req-42"},
    )
    client.app.state.read_audit.flush()  # reads are appended in batches (AuditBuffer)
    with store.read() as tx:
        reads = [e for e in tx.audit_entries() if e["action"] == "profile.read"]
    assert (reads[-1]["actor"], reads[-1]["subject"], reads[-1]["request_id"]) == (
        f"key:{key.id}",
        cyrus,
        "req-42",
    )
