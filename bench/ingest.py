"""Real-time ingest benchmark (not a test): events/s accepted and applied end to end, and the
time from acknowledgement (HTTP 200) to visible in the profile (inbox `applied_at`, committed in
the same transaction as the event and the traits).

    python bench/ingest.py [--events 20000] [--pg postgresql://postgres@127.0.0.1:5432/postgres]
                           [--nats nats://127.0.0.1:4222]

Scenarios: SQLite + embedded worker; PostgreSQL + embedded worker; PostgreSQL + NATS JetStream
+ 2 worker processes. Prints a table and writes docs/benchmarks/ingest.md.
"""

from __future__ import annotations

import argparse
import base64
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import uvicorn
from sqlalchemy import create_engine, select, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.realtime_support import CONFIG_YAML, WRITE_KEY, realtime_config  # noqa: E402

from ucp.api.app import create_app  # noqa: E402
from ucp.settings import Settings  # noqa: E402
from ucp.store import tables as t  # noqa: E402
from ucp.store.engine import normalize_url  # noqa: E402
from ucp.store.store import Store  # noqa: E402

AUTH = {"Authorization": "Basic " + base64.b64encode(f"{WRITE_KEY}:".encode()).decode()}
WORKER = """
import asyncio, sys
from ucp.config import load_config
from ucp.connectors.nats_bus import NatsLog
from ucp.services.worker import run_bus_worker
from ucp.store.store import Store
async def main():
    config = load_config(__import__("pathlib").Path(sys.argv[3]))
    bus = NatsLog(sys.argv[2], config.collector.stream, config.collector.subject_prefix)
    await bus.connect()
    await run_bus_worker(Store.open(sys.argv[1]), config, bus, "bench", 500, idle_exit=8.0)
    await bus.close()
asyncio.run(main())
"""


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def send(base: str, events: int, users: int, senders: int) -> tuple[dict[str, float], float]:
    """POST batches of 100 tracks from `senders` threads; returns ack time per messageId."""
    acks: dict[str, float] = {}
    per = events // senders
    run = uuid.uuid4().hex[:6]

    def worker(k: int) -> None:
        with httpx.Client(timeout=30) as http:
            for start in range(0, per, 100):
                ids = [f"{run}-{k}-{start + i}" for i in range(100)]
                batch = [{"type": "track", "userId": f"user-{hash(mid) % users}",
                          "event": "Order Completed", "messageId": mid,
                          "properties": {"revenue": 12.5, "category": "hats"}} for mid in ids]
                r = http.post(f"{base}/v1/batch", json={"batch": batch}, headers=AUTH)
                r.raise_for_status()
                now = time.time()
                acks.update(dict.fromkeys(ids, now))

    started = time.time()
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(senders)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return acks, time.time() - started


def wait_applied(url: str, n: int, timeout: float = 600) -> dict[str, float]:
    engine = create_engine(normalize_url(url))
    c = t.inbox.c
    deadline = time.time() + timeout
    with engine.connect() as conn:
        while time.time() < deadline:
            done = conn.execute(
                select(text("count(*)")).select_from(t.inbox).where(c.status == "applied")
            ).scalar_one()
            if done >= n:
                break
            time.sleep(0.2)
        rows = conn.execute(select(c.message_id, c.applied_at)).all()
    engine.dispose()
    out = {}
    for mid, at in rows:
        at = at if at.tzinfo else at.replace(tzinfo=UTC)
        out[mid] = at.timestamp()
    return out


def scenario(name: str, url: str, events: int, bus: str | None, cfg: Path) -> dict[str, object]:
    store = Store.open(url)
    config = realtime_config()
    if bus:
        os.environ["UCP_BUS"] = bus
    app = create_app(Settings(database_url=url), config, store)
    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    th = threading.Thread(target=srv.run, daemon=True)
    th.start()
    while not srv.started:
        time.sleep(0.05)
    workers = []
    if bus:
        workers = [subprocess.Popen([sys.executable, "-c", WORKER, url, bus, str(cfg)],
                                    env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
                   for _ in range(2)]
    acks, send_s = send(f"http://127.0.0.1:{port}", events, users=2000, senders=4)
    applied = wait_applied(url, len(acks))
    first, last = min(acks.values()) - send_s / max(len(acks), 1), max(applied.values())
    start = min(acks.values())
    lags = sorted(max(0.0, applied[m] - acks[m]) for m in acks if m in applied)
    srv.should_exit = True
    th.join(10)
    for w in workers:
        w.terminate()
        w.wait(10)
    os.environ.pop("UCP_BUS", None)
    store.close()
    del first
    return {
        "scenario": name,
        "events": len(acks),
        "accepted_per_s": round(len(acks) / send_s),
        "applied_per_s": round(len(applied) / (last - start + 1e-9)),
        "p50_ms": round(statistics.median(lags) * 1000),
        "p99_ms": round(lags[int(len(lags) * 0.99) - 1] * 1000),
        "lost": len(acks) - len(set(acks) & set(applied)),
    }


def pg_database(base: str) -> tuple[str, str]:
    admin = create_engine(normalize_url(base), isolation_level="AUTOCOMMIT")
    name = f"ucp_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return admin.url.set(database=name).render_as_string(hide_password=False), name


def drop_pg(base: str, name: str) -> None:
    admin = create_engine(normalize_url(base), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--pg", default=os.environ.get("UCP_TEST_POSTGRES_URL"))
    parser.add_argument("--nats", default="nats://127.0.0.1:4222")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks" / "ingest.md")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "ucp.yaml"
        stream = f"UCP_BENCH_{uuid.uuid4().hex[:6].upper()}"
        cfg.write_text(CONFIG_YAML + f"collector: {{stream: {stream}, subject_prefix: "
                       f"ucpbench.{stream.lower()}}}\n")
        results.append(scenario("SQLite, embedded worker", f"sqlite:///{tmp}/b.db", args.events,
                                None, cfg))
        if args.pg:
            url, name = pg_database(args.pg)
            try:
                results.append(scenario("PostgreSQL, embedded worker", url, args.events, None,
                                        cfg))
            finally:
                drop_pg(args.pg, name)
            url, name = pg_database(args.pg)
            try:
                results.append(scenario("PostgreSQL, NATS + 2 workers", url, args.events,
                                        args.nats, cfg))
            finally:
                drop_pg(args.pg, name)
                _delete_stream(args.nats, stream)
    header = ("| scenario | events | accepted/s | applied/s | p50 ack→visible | p99 ack→visible "
              "| lost |\n|---|---:|---:|---:|---:|---:|---:|")
    lines = [f"| {r['scenario']} | {r['events']} | {r['accepted_per_s']} | {r['applied_per_s']} "
             f"| {r['p50_ms']} ms | {r['p99_ms']} ms | {r['lost']} |" for r in results]
    table = "\n".join([header, *lines])
    print(table)
    machine = f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, " \
              f"Python {platform.python_version()}"
    args.out.write_text(
        "# Real-time ingest benchmark\n\n"
        f"`python bench/ingest.py --events {args.events}` on {machine}, "
        f"{datetime.now(UTC):%Y-%m-%d}. Four HTTP senders post batches of 100 `track` calls "
        "(2,000 users, 9 computed traits) to a uvicorn server in the same process as the "
        "embedded worker (or 2 worker processes on NATS). *Visible* = the inbox row's "
        "`applied_at`, committed in the transaction that wrote the event and the traits.\n\n"
        f"{table}\n\nTargets on 2 cores: ≥ 5,000 events/s applied, p99 visibility ≤ 1 s.\n"
    )


def _delete_stream(url: str, stream: str) -> None:
    import asyncio

    from ucp.connectors.nats_bus import NatsLog

    async def go() -> None:
        bus = NatsLog(url, stream)
        await bus.connect()
        await bus.delete_stream()
        await bus.close()

    import contextlib

    with contextlib.suppress(Exception):  # best effort cleanup
        asyncio.run(go())


if __name__ == "__main__":
    main()
