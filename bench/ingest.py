"""Real-time ingest benchmark (not a test): events/s accepted and applied end to end, and the
time from acknowledgement (HTTP 200) to visible in the profile (inbox `applied_at`, committed in
the same transaction as the event and the traits).

    python bench/ingest.py [--events 20000] [--rate 0] [--senders 4]
                           [--pg postgresql://postgres@127.0.0.1:5432/postgres]
                           [--nats nats://127.0.0.1:4222] [--only sqlite,pg,nats]

Scenarios: SQLite + embedded worker; PostgreSQL + embedded worker; PostgreSQL + NATS JetStream
+ 2 `ucp worker --bus` processes. The senders run in a process of their own (like real clients:
they do not share the server's interpreter). `--rate` offers a fixed load (events/s, 0 = as fast
as the server acknowledges). Prints a table and writes docs/benchmarks/ingest.md.
"""

from __future__ import annotations

import argparse
import base64
import multiprocessing
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from sqlalchemy import create_engine, select, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.realtime_support import CONFIG_YAML, WRITE_KEY  # noqa: E402

from ucp.api.app import create_app  # noqa: E402
from ucp.config import load_config  # noqa: E402
from ucp.settings import Settings  # noqa: E402
from ucp.store import tables as t  # noqa: E402
from ucp.store.engine import normalize_url  # noqa: E402
from ucp.store.store import Store  # noqa: E402

AUTH = {"Authorization": "Basic " + base64.b64encode(f"{WRITE_KEY}:".encode()).decode()}


def _wait_port(port: int, timeout: float = 60.0) -> None:
    """Until something accepts connections on 127.0.0.1:`port`."""
    import socket

    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port} after {timeout:.0f} s")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def send(base: str, events: int, users: int, senders: int, rate: float,
         run: str) -> tuple[dict[str, float], float]:
    """POST batches of 100 tracks from `senders` threads; returns ack time per messageId.

    With `rate` > 0 each sender paces its batches so that all together offer `rate` events/s.
    """
    acks: dict[str, float] = {}
    per = events // senders
    interval = 100 * senders / rate if rate > 0 else 0.0

    def worker(k: int) -> None:
        started = time.time()
        with httpx.Client(timeout=60) as http:
            for n, start in enumerate(range(0, per, 100)):
                if interval:
                    time.sleep(max(0.0, started + n * interval - time.time()))
                ids = [f"{run}-{k}-{start + i}" for i in range(100)]
                batch = [{"type": "track", "userId": f"user-{(k * per + start + i) * 7919 % users}",
                          "event": "Order Completed", "messageId": mid,
                          "properties": {"revenue": 12.5, "category": "hats"}}
                         for i, mid in enumerate(ids)]
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


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def _send_child(queue: Any, *args: Any) -> None:
    try:
        acks, seconds = send(*args)
        queue.put((acks, seconds, _cpu(resource.RUSAGE_SELF)))
    except Exception as exc:  # noqa: BLE001 - reported by the parent
        queue.put(RuntimeError(f"sender failed: {exc!r}"))


def send_elsewhere(*args: Any) -> tuple[dict[str, float], float, float]:
    """`send` in a process of its own (spawned: nothing of this process is shared); also
    returns the CPU seconds the senders used."""
    import queue as queues

    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    proc = ctx.Process(target=_send_child, args=(results, *args))
    proc.start()
    while True:
        try:
            result = results.get(timeout=1.0)
            break
        except queues.Empty:
            if not proc.is_alive():
                raise RuntimeError(f"sender process died (exit code {proc.exitcode})") from None
    proc.join()
    if isinstance(result, Exception):
        raise result
    return result  # type: ignore[no-any-return]


def wait_applied(url: str, n: int, timeout: float) -> dict[str, float]:
    """applied_at per messageId once `n` rows are applied, or when `timeout` s pass without
    progress (the rows missing then count as lost)."""
    engine = create_engine(normalize_url(url))
    c = t.inbox.c
    deadline, last = time.time() + timeout, -1
    with engine.connect() as conn:
        while time.time() < deadline:
            done = conn.execute(
                select(text("count(*)")).select_from(t.inbox).where(c.status == "applied")
            ).scalar_one()
            conn.rollback()
            if done >= n:
                break
            if done != last:
                deadline, last = time.time() + timeout, done
            time.sleep(0.2)
        rows = conn.execute(
            select(c.message_id, c.applied_at).where(c.status == "applied")
        ).all()
    engine.dispose()
    out = {}
    for mid, at in rows:
        at = at if at.tzinfo else at.replace(tzinfo=UTC)
        out[mid] = at.timestamp()
    return out


def scenario(name: str, url: str, args: argparse.Namespace, bus: str | None,
             cfg: Path) -> dict[str, object]:
    store = Store.open(url)
    config = load_config(cfg)  # the same ucp.yaml the worker processes read
    if bus:
        os.environ["UCP_BUS"] = bus
    port = free_port()
    ucp = shutil.which("ucp", path=str(Path(sys.executable).parent)) or "ucp"
    env = {**os.environ, "UCP_DATABASE_URL": url, "UCP_CONFIG_PATH": str(cfg)}
    env.pop("UCP_BUS", None)
    server: subprocess.Popen[bytes] | None = None
    srv: uvicorn.Server | None = None
    if args.serve_workers and not bus:
        # the product command: `ucp serve --workers N`, each process with its embedded worker
        server = subprocess.Popen([ucp, "serve", "--port", str(port), "--workers",
                                   str(args.serve_workers)], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_port(port)
        th = None
    else:
        app = create_app(Settings(database_url=url, config_path=cfg), config, store)
        srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                            log_level="warning"))
        th = threading.Thread(target=srv.run, daemon=True)
        th.start()
        while not srv.started:
            time.sleep(0.05)
    workers = []
    if bus:
        workers = [subprocess.Popen([ucp, "worker", "--bus", bus, "--durable", "bench"],
                                    env=env, stdout=subprocess.DEVNULL)
                   for _ in range(2)]
    cpu_self, cpu_children = _cpu(resource.RUSAGE_SELF), _cpu(resource.RUSAGE_CHILDREN)
    try:
        acks, send_s, sender_cpu = send_elsewhere(
            f"http://127.0.0.1:{port}", args.events, args.users, args.senders, args.rate,
            uuid.uuid4().hex[:6],
        )
        # longer than JetStream's ack wait (60 s): a batch a worker fetched but never
        # acknowledged is redelivered to the other one
        applied = wait_applied(url, len(acks), timeout=90)
    finally:
        if srv is not None and th is not None:
            srv.should_exit = True
            th.join(10)
        if server is not None:
            server.terminate()
            server.wait(30)
        for w in workers:
            w.terminate()
            w.wait(10)
        os.environ.pop("UCP_BUS", None)
        store.close()
    server_cpu = _cpu(resource.RUSAGE_SELF) - cpu_self
    worker_cpu = _cpu(resource.RUSAGE_CHILDREN) - cpu_children - sender_cpu
    start = min(acks.values()) - send_s / max(len(acks) // 100, 1)  # ≈ the first request
    last = max((applied[m] for m in acks if m in applied), default=start)
    lags = sorted(max(0.0, applied[m] - acks[m]) for m in acks if m in applied) or [0.0]
    return {
        "scenario": name,
        "events": len(acks),
        "accepted_per_s": round(len(acks) / send_s),
        "applied_per_s": round(len(set(acks) & set(applied)) / (last - start + 1e-9)),
        "p50_ms": round(statistics.median(lags) * 1000),
        "p99_ms": round(lags[max(0, int(len(lags) * 0.99) - 1)] * 1000),
        "lost": len(acks) - len(set(acks) & set(applied)),
        # CPU per 1,000 events: the server process (HTTP + embedded worker) and the worker
        # processes; PostgreSQL's and NATS's own CPU is not counted
        "cpu_ms_per_1k": round(1000 * (server_cpu + max(worker_cpu, 0.0)) * 1000 / len(acks)),
        "server_cpu_ms_per_1k": round(server_cpu * 1e6 / len(acks)),
        "worker_cpu_ms_per_1k": round(max(worker_cpu, 0.0) * 1e6 / len(acks)),
        "sender_cpu_ms_per_1k": round(sender_cpu * 1e6 / len(acks)),
    }


def history(url: str, rounds: int, per_round: int, users: int) -> list[dict[str, object]]:
    """The embedded worker alone (no HTTP): `rounds` rounds of `per_round` orders over `users`
    people, each round logged then drained; applied/s and CPU per 1,000 events per round, as
    the people's histories grow (`per_round / users` more events each round)."""
    from ucp.services.collect import InboxLog
    from ucp.services.worker import InboxWorker

    store = Store.open(url)
    config = load_config_text(CONFIG_YAML)
    inbox, worker = InboxLog(store), InboxWorker(store, config, retention_every=None)
    out = []
    for r in range(rounds):
        when = datetime.now(UTC).isoformat()
        for start in range(0, per_round, 100):
            inbox.append("web", [
                {"type": "track", "userId": f"user-{(start + i) * 7919 % users}",
                 "event": "Order Completed", "messageId": f"h{r}-{start + i}",
                 "receivedAt": when, "timestamp": when,
                 "properties": {"revenue": 12.5, "category": "hats"}} for i in range(100)])
        wall, cpu = time.perf_counter(), time.process_time()
        n = worker.drain()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        out.append({"round": r + 1, "events_per_person": per_round * (r + 1) // users,
                    "applied_per_s": round(n / wall), "cpu_ms_per_1k": round(cpu * 1e6 / n)})
    store.close()
    return out


def _serve(args: argparse.Namespace) -> str:
    return f" (`ucp serve --workers {args.serve_workers}`)" if args.serve_workers else ""


def load_config_text(text_: str) -> Any:
    from ucp.config import parse_config

    return parse_config(text_)


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
    parser.add_argument("--rate", type=float, default=0.0,
                        help="offered events/s (0: as fast as acknowledged)")
    parser.add_argument("--senders", type=int, default=4)
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--pg", default=os.environ.get("UCP_TEST_POSTGRES_URL"))
    parser.add_argument("--nats", default="nats://127.0.0.1:4222")
    parser.add_argument("--only", default="sqlite,pg,nats,history",
                        help="comma-separated scenarios: sqlite, pg, nats, history")
    parser.add_argument("--history-users", type=int, default=200,
                        help="people in the worker-alone history scenario")
    parser.add_argument("--serve-workers", type=int, default=0,
                        help="embedded scenarios: run `ucp serve --workers N` (one embedded "
                             "worker per process) instead of an in-process server")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks" / "ingest.md")
    args = parser.parse_args()
    only = set(args.only.split(","))
    load_before = os.getloadavg()[0]
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "ucp.yaml"
        stream = f"UCP_BENCH_{uuid.uuid4().hex[:6].upper()}"
        cfg.write_text(CONFIG_YAML + f"collector: {{stream: {stream}, subject_prefix: "
                       f"ucpbench.{stream.lower()}}}\n")
        if "sqlite" in only:
            results.append(scenario(f"SQLite, embedded worker{_serve(args)}",
                                    f"sqlite:///{tmp}/b.db", args, None, cfg))
        if args.pg and "pg" in only:
            url, name = pg_database(args.pg)
            try:
                results.append(scenario(f"PostgreSQL, embedded worker{_serve(args)}", url, args,
                                        None, cfg))
            finally:
                drop_pg(args.pg, name)
        if args.pg and "nats" in only:
            url, name = pg_database(args.pg)
            try:
                results.append(scenario("PostgreSQL, NATS + 2 `ucp worker`", url, args,
                                        args.nats, cfg))
            finally:
                drop_pg(args.pg, name)
                _delete_stream(args.nats, stream)
    depth: list[tuple[str, list[dict[str, object]]]] = []
    if "history" in only:
        with tempfile.TemporaryDirectory() as tmp:
            depth.append(("SQLite", history(f"sqlite:///{tmp}/h.db", 4, 5000,
                                            args.history_users)))
        if args.pg:
            url, name = pg_database(args.pg)
            try:
                depth.append(("PostgreSQL", history(url, 4, 5000, args.history_users)))
            finally:
                drop_pg(args.pg, name)
    depth_table = "\n".join([
        "| database | round | events per person after it | applied/s | CPU ms / 1k events |",
        "|---|---:|---:|---:|---:|",
        *(f"| {db} | {r['round']} | {r['events_per_person']} | {r['applied_per_s']} "
          f"| {r['cpu_ms_per_1k']} |" for db, rows in depth for r in rows),
    ])
    header = ("| scenario | events | accepted/s | applied/s | p50 ack→visible | p99 ack→visible "
              "| lost | CPU ms / 1k events (server + workers) | senders' CPU ms / 1k "
              "| targets met |\n"
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    lines = [f"| {r['scenario']} | {r['events']} | {r['accepted_per_s']} | {r['applied_per_s']} "
             f"| {r['p50_ms']} ms | {r['p99_ms']} ms | {r['lost']} | {r['cpu_ms_per_1k']} "
             f"({r['server_cpu_ms_per_1k']} + {r['worker_cpu_ms_per_1k']}) "
             f"| {r['sender_cpu_ms_per_1k']} | {_verdict(r)} |" for r in results]
    table = "\n".join([header, *lines])
    print(table)
    if depth:
        print()
        print(depth_table)
    machine = f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, " \
              f"Python {platform.python_version()}"
    command = "python bench/ingest.py " + " ".join(sys.argv[1:])
    offered = f"{args.rate:,.0f} events/s offered" if args.rate else "as fast as acknowledged"
    notes = ""  # a hand-written "## Notes" section of the page survives a re-run
    if args.out.exists() and "\n## Notes" in (old := args.out.read_text()):
        notes = "\n" + old[old.index("\n## Notes") + 1:]
    args.out.write_text(
        "# Real-time ingest benchmark\n\n"
        f"`{command}` on {machine}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load average "
        f"{load_before:.1f} at the start (the machine is shared). {args.senders} HTTP senders in "
        f"a separate process post batches of 100 `track` calls ({args.users:,} users, 9 "
        f"computed traits), {offered}, to a uvicorn server with its embedded worker (a child "
        "process of the server, the default) or, on NATS, 2 `ucp worker --bus` processes. "
        "*Visible* = the inbox "
        "row's `applied_at`, committed in the transaction that wrote the event and the traits; "
        "*lost* = acknowledged but not applied 90 s after progress stopped. *CPU ms / 1k "
        "events* = CPU time of the server process (HTTP, validation, log) + that of the worker "
        "processes (embedded or `ucp worker`, start-up included) per 1,000 events, PostgreSQL "
        "and NATS not counted; the senders' own CPU is shown apart. Unlike the rates, CPU per "
        "event hardly depends on what else the machine runs.\n\n"
        f"{table}\n\nTargets on 2 cores: ≥ 5,000 events/s applied, p99 visibility ≤ 1 s.\n"
        + ("\n## The worker alone, as histories grow\n\n"
           f"4 rounds of 5,000 orders over {args.history_users} people, each round logged to the "
           "inbox and then drained by the embedded worker (no HTTP, one process): the cost per "
           "event should not grow with the people's histories.\n\n"
           f"{depth_table}\n" if depth else "")
        + notes
    )


def _verdict(r: dict[str, object]) -> str:
    rate = int(str(r["applied_per_s"])) >= 5000
    p99 = int(str(r["p99_ms"])) <= 1000
    return {(True, True): "both", (True, False): "rate only", (False, True): "p99 only",
            (False, False): "neither"}[(rate, p99)]


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
