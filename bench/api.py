"""Profile API latency and throughput at scale (a benchmark, not a test).

Generates persons with `ucp generate`, bulk-loads the record sources (`ucp ingest
--defer-resolution` then `ucp resolve`), serves the API with `ucp serve --workers 2`, and drives
it from a second process over keep-alive HTTP/1.1 connections (a thread per connection):
lookup by identifier and get by id, p50/p99 latency and requests per second. Runs on SQLite
and, with --pg URL, on PostgreSQL. Writes docs/benchmarks/api.md.

    .venv/bin/python bench/api.py --persons 100000 [--pg postgresql://postgres@127.0.0.1/postgres]
"""

from __future__ import annotations

import argparse
import csv
import http.client
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
UCP = [sys.executable, "-m", "ucp.cli"]
RECORD_SOURCES = ("crm", "shop_customers", "support_tickets", "newsletter")


def run(args: list[str], env: dict[str, str]) -> str:
    started = time.perf_counter()
    done = subprocess.run([*UCP, *args], env=env, check=True, capture_output=True, text=True)
    print(f"  ucp {' '.join(args[:2])} … {time.perf_counter() - started:.1f} s", flush=True)
    return done.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def load(data: Path, db_url: str) -> dict[str, float]:
    env = {**os.environ, "UCP_DATABASE_URL": db_url, "UCP_CONFIG_PATH": str(data / "ucp.yaml")}
    timings: dict[str, float] = {}
    started = time.perf_counter()
    for source in RECORD_SOURCES:
        path = next(data.glob(f"{source}.*"))
        run(["ingest", str(path), "--source", source, "--defer-resolution"], env)
    timings["ingest_s"] = time.perf_counter() - started
    started = time.perf_counter()
    run(["resolve"], env)
    timings["resolve_s"] = time.perf_counter() - started
    return timings


def sample_targets(db_url: str, n: int) -> tuple[list[str], list[str]]:
    """Random profile ids and `email:` identifiers that exist in the store."""
    url = db_url.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(url)
    with engine.connect() as conn:
        ids = [r[0] for r in conn.execute(text("SELECT id FROM profiles"))]
        emails = [
            r[0]
            for r in conn.execute(
                text("SELECT value FROM identifiers WHERE type = 'email' AND linkable")
            )
        ]
        profiles = conn.execute(text("SELECT count(*) FROM profiles")).scalar_one()
    engine.dispose()
    rng = random.Random(7)
    print(f"  {profiles} profiles in the store")
    return rng.sample(ids, min(n, len(ids))), rng.sample(emails, min(n, len(emails)))


def drive(
    port: int, key: str, paths: list[str], seconds: float, connections: int
) -> tuple[list[float], int, int]:
    """Keep-alive clients (one thread each) cycling through `paths` for `seconds`; ms."""
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    headers = {"Authorization": f"Bearer {key}"}

    def client(offset: int) -> None:
        nonlocal errors
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.connect()
        conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        i = offset
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            conn.request("GET", paths[i % len(paths)], headers=headers)
            response = conn.getresponse()
            response.read()
            latencies.append((time.perf_counter() - started) * 1000)
            if response.status != 200:
                errors += 1
            i += connections
        conn.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(c,)) for c in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, errors, int(len(latencies) / (time.perf_counter() - started))


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def measure(
    data: Path, db_url: str, label: str, seconds: float, reuse: bool = False
) -> list[dict[str, object]]:
    timings = {"ingest_s": float("nan"), "resolve_s": float("nan")} if reuse else load(data, db_url)
    env = {**os.environ, "UCP_DATABASE_URL": db_url, "UCP_CONFIG_PATH": str(data / "ucp.yaml")}
    key = run(["keys", "create", "--role", "admin", "--name", "bench"], env).strip()
    ids, emails = sample_targets(db_url, 20_000)
    port = free_port()
    server = subprocess.Popen(
        [*UCP, "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    rows = []
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        cases = {
            "lookup by identifier": [
                "/v1/profiles?identifier=" + urllib.parse.quote(f"email:{e}") for e in emails
            ],
            "get by id": [f"/v1/profiles/{pid}" for pid in ids],
        }
        for name, paths in cases.items():
            # one connection: latency without queueing; eight: throughput under load
            single, _, _ = drive(port, key, paths, seconds / 2, 1)
            loaded, errors, rps = drive(port, key, paths, seconds, 8)
            rows.append(
                {
                    "store": label,
                    "request": name,
                    "p50_ms": round(statistics.median(single), 2),
                    "p99_ms": round(pct(single, 0.99), 2),
                    "p99_ms_8conn": round(pct(loaded, 0.99), 2),
                    "rps_8conn": rps,
                    "errors": errors,
                    **{k: round(v, 1) for k, v in timings.items()},
                }
            )
            print(
                f"  {name}: p50 {rows[-1]['p50_ms']} ms, p99 {rows[-1]['p99_ms']} ms, "
                f"{rps} req/s with 8 connections",
                flush=True,
            )
    finally:
        server.terminate()
        server.wait(timeout=20)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--pg", help="PostgreSQL URL (a database named ucp_bench_api is made)")
    parser.add_argument("--work", type=Path, default=ROOT / "bench" / "out" / "api")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="measure the stores a previous run loaded (no load timings)",
    )
    args = parser.parse_args()
    data = args.work / f"data-{args.persons}"
    if not (data / "truth.csv").exists():
        print(f"generating {args.persons} persons …", flush=True)
        subprocess.run(
            [
                *UCP,
                "generate",
                "--persons",
                str(args.persons),
                "--seed",
                str(args.seed),
                "--out",
                str(data),
                "--workers",
                "2",
            ],
            check=True,
            capture_output=True,
        )
    rows = []
    db = args.work / f"api-{args.persons}.db"
    if not args.reuse:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
    print("SQLite:", flush=True)
    rows += measure(data, f"sqlite:///{db}", "SQLite", args.seconds, args.reuse)
    if args.pg:
        admin = create_engine(
            args.pg.replace("postgresql://", "postgresql+psycopg://", 1),
            isolation_level="AUTOCOMMIT",
        )
        if not args.reuse:
            with admin.connect() as conn:
                conn.execute(text("DROP DATABASE IF EXISTS ucp_bench_api WITH (FORCE)"))
                conn.execute(text("CREATE DATABASE ucp_bench_api"))
        url = admin.url.set(database="ucp_bench_api").render_as_string(hide_password=False)
        print("PostgreSQL:", flush=True)
        rows += measure(data, url.replace("+psycopg", ""), "PostgreSQL", args.seconds, args.reuse)
    write_report(rows, args.persons)


def write_report(rows: list[dict[str, object]], persons: int) -> None:
    cols = list(rows[0])
    table = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    table += ["| " + " | ".join(str(r[c]) for c in cols) + " |" for r in rows]
    print("\n".join(table))
    out = ROOT / "docs" / "benchmarks" / "api.md"
    out.write_text(
        "# Profile API benchmark\n\n"
        f"`bench/api.py --persons {persons}` on this machine (2 cores), server "
        "`ucp serve --workers 2`, client in a second process on the same machine (it competes "
        "for the same two cores). p50/p99 are measured with one keep-alive connection; "
        "`p99_ms_8conn` and `rps_8conn` with eight. `ingest_s` and `resolve_s` are the bulk "
        "load of the four record sources.\n\n" + "\n".join(table) + "\n"
    )
    with (ROOT / "bench" / "out" / "api.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=cols)
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    main()
