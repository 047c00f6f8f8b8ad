"""Real traffic: the official Segment SDK against a real uvicorn server, and a SIGKILL of the
server mid-stream after which every acknowledged message is applied exactly once."""

from __future__ import annotations

import base64
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from tests.realtime_support import CONFIG_YAML, WRITE_KEY, realtime_config

from ucp.api.app import create_app
from ucp.services.traits import profile_traits
from ucp.services.worker import InboxWorker
from ucp.settings import Settings
from ucp.store.store import Store


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(store: Store) -> Iterator[str]:
    """The API with its embedded worker, served by uvicorn in a thread."""
    app = create_app(Settings(database_url="sqlite://"), realtime_config(), store)
    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(10)


def wait_for(check, timeout: float = 15.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def test_segment_sdk_traffic_reaches_the_profile(server: str, store: Store) -> None:
    """identify + tracks sent by `segment-analytics-python` (batched, gzipped) are applied by
    the embedded worker; the profile shows the events and the lifetime value."""
    from segment.analytics.client import Client

    errors: list[object] = []
    client = Client(WRITE_KEY, host=server, gzip=True, upload_size=25, max_retries=3,
                    on_error=lambda e, batch: errors.append(e))
    client.track(anonymous_id="sdk-anon", event="Product Viewed",
                 properties={"category": "hats"})
    client.identify("sdk-user", {"email": "sdk@example.com", "firstName": "Sam"},
                    anonymous_id="sdk-anon")
    for i in range(60):
        client.track("sdk-user", "Order Completed", {"revenue": 2.5, "order": i})
    client.flush()
    client.join()
    assert errors == []

    def lifetime_value() -> float | None:
        with store.read() as tx:
            found = tx.profiles_by_identifier("user_id", "sdk-user")
            if not found:
                return None
            value = profile_traits(tx, found[0])["values"].get("order_count")
            return tx.profiles_by_identifier("anonymous_id", "sdk-anon") == found and \
                value == 60 and profile_traits(tx, found[0])["values"]["lifetime_value"]

    assert wait_for(lifetime_value) == 150
    with store.read() as tx:
        assert tx.inbox_counts() == {"applied": 62}


def test_server_retries_are_idempotent(server: str, store: Store) -> None:
    auth = {"Authorization": "Basic " + base64.b64encode(f"{WRITE_KEY}:".encode()).decode()}
    batch = {"batch": [{"type": "track", "userId": "r1", "event": "Order Completed",
                        "messageId": f"retry-{i}", "properties": {"revenue": 1}}
                       for i in range(10)]}
    for _ in range(3):
        assert httpx.post(f"{server}/v1/batch", json=batch, headers=auth).status_code == 200

    def count() -> int:
        with store.read() as tx:
            found = tx.profiles_by_identifier("user_id", "r1")
            return found and profile_traits(tx, found[0])["values"].get("order_count")

    assert wait_for(count) == 10
    time.sleep(0.3)
    assert count() == 10


@pytest.mark.slow
def test_sigkill_mid_stream_loses_no_acknowledged_message(db_url: str, tmp_path: Path) -> None:
    config_path = tmp_path / "ucp.yaml"
    config_path.write_text(CONFIG_YAML)
    env = {**os.environ, "UCP_DATABASE_URL": db_url, "UCP_CONFIG_PATH": str(config_path)}
    port = free_port()
    cmd = [sys.executable, "-m", "ucp.cli", "serve", "--port", str(port)]
    url = f"http://127.0.0.1:{port}/v1/batch"
    auth = {"Authorization": "Basic " + base64.b64encode(f"{WRITE_KEY}:".encode()).decode()}

    def start() -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        assert wait_for(lambda: _up(f"http://127.0.0.1:{port}/healthz"), 30)
        return proc

    proc = start()
    acked: list[str] = []
    stop = threading.Event()

    def send() -> None:
        n = 0
        with httpx.Client(timeout=5) as http:
            while not stop.is_set():
                ids = [f"k-{n + i}" for i in range(20)]
                n += 20
                batch = [{"type": "track", "userId": f"user-{i % 7}", "event": "Order Completed",
                          "messageId": mid, "properties": {"revenue": 1}} for i, mid in
                         enumerate(ids)]
                try:
                    if http.post(url, json={"batch": batch}, headers=auth).status_code == 200:
                        acked.extend(ids)
                except httpx.HTTPError:
                    time.sleep(0.05)

    sender = threading.Thread(target=send)
    sender.start()
    wait_for(lambda: len(acked) >= 400, 30)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    killed_at = len(acked)
    time.sleep(0.3)
    proc = start()
    wait_for(lambda: len(acked) >= killed_at + 200, 30)
    stop.set()
    sender.join()
    try:
        store = Store.open(db_url)
        assert wait_for(lambda: _pending(store) == 0, 30)
        InboxWorker(store, realtime_config()).drain()
        with store.read() as tx:
            rows = tx.inbox_rows("web", acked)
            events = set(tx.existing_event_keys("web", acked))
            total_orders = sum(t.get("order_count", 0) for t in tx.all_traits().values())
            total_events = tx.counts()["events"]
        assert len(acked) == len(set(acked))
        assert {r["status"] for r in rows.values()} == {"applied"} and len(rows) == len(acked)
        assert events == set(acked)
        assert total_orders == total_events  # every applied event counted exactly once
        store.close()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(15)


def _up(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code < 500
    except httpx.HTTPError:
        return False


def _pending(store: Store) -> int:
    with store.read() as tx:
        return tx.inbox_counts().get("pending", 0)
