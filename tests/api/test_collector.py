"""The collector over HTTP: write keys, partial acceptance, limits, gzip, durability."""

from __future__ import annotations

import base64
import gzip
from collections.abc import Iterator

import orjson
import pytest
from fastapi.testclient import TestClient
from tests.realtime_support import WRITE_KEY, realtime_config

from ucp.api.app import create_app
from ucp.services.worker import InboxWorker
from ucp.settings import Settings
from ucp.store.store import Store

AUTH = {"Authorization": "Basic " + base64.b64encode(f"{WRITE_KEY}:".encode()).decode()}


@pytest.fixture
def client(store: Store) -> Iterator[TestClient]:
    app = create_app(Settings(database_url="sqlite://"), realtime_config(), store)
    yield TestClient(app)


def _inbox(store: Store) -> dict[str, int]:
    with store.read() as tx:
        return tx.inbox_counts()


def test_missing_or_unknown_write_key_is_401(client: TestClient) -> None:
    msg = {"userId": "u1", "event": "x"}
    for headers in ({}, {"Authorization": "Basic " + base64.b64encode(b"nope:").decode()}):
        r = client.post("/v1/track", json=msg, headers=headers)
        assert r.status_code == 401
        assert r.headers["content-type"] == "application/problem+json"


def test_write_key_in_the_body_is_accepted(client: TestClient, store: Store) -> None:
    r = client.post("/v1/batch", json={"writeKey": WRITE_KEY,
                                       "batch": [{"type": "identify", "userId": "u1"}]})
    assert r.status_code == 200 and r.json()["accepted"] == 1
    assert _inbox(store) == {"pending": 1}


def test_partial_batch_is_200_and_lists_rejections(client: TestClient, store: Store) -> None:
    batch = [{"type": "track", "userId": "u1", "event": "A", "messageId": f"m{i}"}
             for i in range(3)]
    batch.insert(1, {"type": "track", "event": "B"})
    r = client.post("/v1/import", json={"batch": batch}, headers=AUTH)
    assert r.status_code == 200
    assert r.json() == {"success": True, "accepted": 3, "rejected": [
        {"index": 1, "field": "batch[1].userId", "reason": "userId or anonymousId is required"}]}
    assert _inbox(store) == {"pending": 3}


def test_all_bad_is_a_400_problem_naming_the_field(client: TestClient) -> None:
    r = client.post("/v1/identify", json={"traits": {}}, headers=AUTH)
    assert r.status_code == 400
    body = r.json()
    assert body["errors"][0]["field"] == "userId" and "userId" in body["detail"]


def test_limits_and_gzip(client: TestClient, store: Store) -> None:
    big = orjson.dumps({"batch": [{"type": "identify", "userId": f"u{i}",
                                   "traits": {"pad": "x" * 20_000}} for i in range(30)]})
    assert client.post("/v1/batch", content=big, headers=AUTH).status_code == 413
    zipped = gzip.compress(orjson.dumps({"batch": [{"type": "page", "anonymousId": "a1"}]}))
    r = client.post("/v1/batch", content=zipped,
                    headers={**AUTH, "Content-Encoding": "gzip",
                             "Content-Type": "application/json"})
    assert r.status_code == 200 and r.json()["accepted"] == 1


def test_a_retried_message_is_logged_and_applied_once(client: TestClient, store: Store) -> None:
    msg = {"userId": "u1", "event": "Order Completed", "messageId": "dup-1",
           "properties": {"revenue": 10}}
    for _ in range(3):
        assert client.post("/v1/track", json=msg, headers=AUTH).status_code == 200
    assert _inbox(store) == {"pending": 1}
    InboxWorker(store, realtime_config()).drain()
    with store.read() as tx:
        assert tx.inbox_counts() == {"applied": 1} and tx.counts()["events"] == 1
