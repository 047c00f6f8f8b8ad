"""Profile API latency and throughput at scale (a benchmark, not a test).

Generates persons with `ucp generate`, bulk-loads record sources (`ucp ingest
--defer-resolution` then `ucp resolve`), serves the API with `ucp serve --workers 2`, and drives
it from other processes over keep-alive HTTP/1.1 connections (one process per connection, raw
sockets, so the client costs little CPU): lookup by identifier and get by id, p50/p99 latency
and requests per second, with the CPU seconds the server and the client used. Runs on SQLite
and, with --pg URL, on PostgreSQL. Writes docs/benchmarks/api.md.

    # ~1.1M profiles: the CRM export of 2.1M generated persons, deterministic resolution
    .venv/bin/python bench/api.py --persons 2100000 --sources crm --engine deterministic \\
        --work /tmp/ucp-bench --pg postgresql://postgres@127.0.0.1/postgres
    # load now, measure later (e.g. after changing the read path) against the same stores
    .venv/bin/python bench/api.py ... --load-only
    .venv/bin/python bench/api.py ... --reuse
"""

from __future__ import annotations

import argparse
import csv
import multiprocessing
import os
import random
import resource
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
from array import array
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
UCP = [sys.executable, "-m", "ucp.cli"]
RECORD_SOURCES = ("crm", "shop_customers", "support_tickets", "newsletter")


def run(args: list[str], env: dict[str, str]) -> str:
    started = time.perf_counter()
    done = subprocess.run([*UCP, *args], env=env, capture_output=True, text=True)
    if done.returncode not in (0, 1) or (done.returncode == 1 and args[0] != "ingest"):
        sys.stderr.write(done.stderr[-4000:])
        raise SystemExit(f"ucp {' '.join(args[:2])} failed ({done.returncode})")
    print(f"  ucp {' '.join(args[:2])} … {time.perf_counter() - started:.1f} s", flush=True)
    return done.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bench_config(data: Path, work: Path, engine: str | None) -> Path:
    """The generated ucp.yaml, or a copy of it that picks the resolution engine."""
    config = data / "ucp.yaml"
    if engine is None:
        return config
    body = config.read_text()
    if "\nresolution:" in body:
        raise SystemExit(f"{config} already has a resolution section; drop --engine")
    out = work / f"ucp-{data.name}-{engine}.yaml"
    out.write_text(body + f"\nresolution:\n  engine: {engine}\n")
    return out


def load(data: Path, env: dict[str, str], sources: list[str]) -> dict[str, float]:
    timings: dict[str, float] = {}
    records = 0
    started = time.perf_counter()
    for source in sources:
        path = next(data.glob(f"{source}.*"))
        report = run(["ingest", str(path), "--source", source, "--defer-resolution", "--json"], env)
        records += int(report.split('"inserted":', 1)[1].split(",", 1)[0])
    timings["ingest_s"] = time.perf_counter() - started
    timings["ingest_rec_per_s"] = records / timings["ingest_s"]
    started = time.perf_counter()
    run(["resolve"], env)
    timings["resolve_s"] = time.perf_counter() - started
    return timings


def sample_targets(db_url: str, n: int) -> tuple[list[str], list[str], int]:
    """Random profile ids and `email:` identifiers that exist in the store, and the count."""
    url = db_url.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(url)
    rng = random.Random(7)
    with engine.connect() as conn:
        profiles = conn.execute(text("SELECT count(*) FROM profiles")).scalar_one()
        top = conn.execute(text("SELECT max(id) FROM records")).scalar_one() or 0
        picks = sorted(rng.sample(range(1, top + 1), min(n, top)))
        ids: set[str] = set()
        emails: set[str] = set()
        for start in range(0, len(picks), 5000):
            part = ",".join(str(p) for p in picks[start : start + 5000])
            ids |= {
                r[0]
                for r in conn.execute(
                    text(f"SELECT profile_id FROM records WHERE id IN ({part})")  # noqa: S608
                )
                if r[0]
            }
            emails |= {
                r[0]
                for r in conn.execute(
                    text(
                        "SELECT value FROM identifiers WHERE type = 'email' AND linkable "  # noqa: S608
                        f"AND record_id IN ({part})"
                    )
                )
            }
    engine.dispose()
    print(f"  {profiles} profiles in the store", flush=True)
    return sorted(ids), sorted(emails), int(profiles)


def _client(
    port: int,
    key: str,
    paths: list[str],
    offset: int,
    step: int,
    seconds: float,
    out: multiprocessing.queues.Queue,
) -> None:  # type: ignore[name-defined]
    """One keep-alive connection over a raw socket; puts (latencies ms, non-200 count, CPU s)."""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    requests = [
        f"GET {p} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {key}\r\n\r\n".encode()
        for p in paths
    ]
    latencies = array("d")
    errors = 0
    buf = b""
    i = offset
    deadline = time.perf_counter() + seconds
    while True:
        started = time.perf_counter()
        if started >= deadline:
            break
        sock.sendall(requests[i % len(requests)])
        while b"\r\n\r\n" not in buf:
            buf += sock.recv(65536)
        head, _, buf = buf.partition(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        while len(buf) < length:
            buf += sock.recv(max(65536, length - len(buf)))
        buf = buf[length:]
        latencies.append((time.perf_counter() - started) * 1000)
        if status != 200:
            errors += 1
        i += step
    sock.close()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    out.put((latencies.tobytes(), errors, usage.ru_utime + usage.ru_stime))


def drive(
    port: int, key: str, paths: list[str], seconds: float, connections: int
) -> tuple[list[float], int, float, float]:
    """`connections` client processes cycling through `paths` for `seconds`.

    Returns (latencies ms, errors, requests per second, client CPU seconds)."""
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    procs = [
        ctx.Process(target=_client, args=(port, key, paths, c, connections, seconds, queue))
        for c in range(connections)
    ]
    started = time.perf_counter()
    for p in procs:
        p.start()
    latencies: list[float] = []
    errors = 0
    cpu = 0.0
    for _ in procs:
        raw, errs, used = queue.get()
        values = array("d")
        values.frombytes(raw)
        latencies.extend(values)
        errors += errs
        cpu += used
    for p in procs:
        p.join()
    elapsed = time.perf_counter() - started
    return latencies, errors, len(latencies) / elapsed, cpu


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of a process and its descendants (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def measure(
    env: dict[str, str],
    db_url: str,
    label: str,
    seconds: float,
    connections: int,
    timings: dict[str, float],
) -> list[dict[str, object]]:
    if label == "PostgreSQL":  # fresh statistics after a bulk load (autovacuum may lag)
        engine = create_engine(
            db_url.replace("postgresql://", "postgresql+psycopg://", 1),
            isolation_level="AUTOCOMMIT",
        )
        with engine.connect() as conn:
            conn.execute(text("ANALYZE"))
        engine.dispose()
    key = run(["keys", "create", "--role", "admin", "--name", "bench"], env).strip()
    ids, emails, profiles = sample_targets(db_url, 20_000)
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
        time.sleep(2)  # both workers up
        cases = {
            "lookup by identifier": [
                "/v1/profiles?identifier=" + urllib.parse.quote(f"email:{e}") for e in emails
            ],
            "get by id": [f"/v1/profiles/{pid}" for pid in ids],
        }
        for name, paths in cases.items():
            random.Random(3).shuffle(paths)
            drive(port, key, paths[-200:], 1.0, 2)  # warm-up: both workers, connections
            # one connection: latency without queueing; N: throughput under load
            load_avg = os.getloadavg()[0]
            single, errors1, _, _ = drive(port, key, paths, seconds / 2, 1)
            server_cpu = process_cpu(server.pid)
            loaded, errors, rps, client_cpu = drive(port, key, paths, seconds, connections)
            server_cpu = process_cpu(server.pid) - server_cpu
            rows.append(
                {
                    "store": label,
                    "profiles": profiles,
                    "request": name,
                    "p50_ms": round(statistics.median(single), 2),
                    "p99_ms": round(pct(single, 0.99), 2),
                    f"p50_ms_{connections}conn": round(statistics.median(loaded), 2),
                    f"p99_ms_{connections}conn": round(pct(loaded, 0.99), 2),
                    f"rps_{connections}conn": int(rps),
                    "server_cpu_s": round(server_cpu, 1),
                    "client_cpu_s": round(client_cpu, 1),
                    "errors": errors1 + errors,
                    "load_avg": round(load_avg, 1),
                    **{k: round(v, 1) for k, v in timings.items()},
                }
            )
            print(
                f"  {name}: p50 {rows[-1]['p50_ms']} ms, p99 {rows[-1]['p99_ms']} ms (1 conn); "
                f"{int(rps)} req/s, p99 {rows[-1][f'p99_ms_{connections}conn']} ms with "
                f"{connections} connections; CPU server {server_cpu:.1f} s, client "
                f"{client_cpu:.1f} s in {seconds:.0f} s; errors {errors1 + errors}",
                flush=True,
            )
    finally:
        server.terminate()
        server.wait(timeout=30)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument(
        "--sources", default=",".join(RECORD_SOURCES), help="record sources to load (comma list)"
    )
    parser.add_argument(
        "--engine",
        choices=("probabilistic", "deterministic"),
        help="resolution engine for the load (default: the generated ucp.yaml's)",
    )
    parser.add_argument("--pg", help="PostgreSQL URL (a database named ucp_bench_api_* is made)")
    parser.add_argument("--no-sqlite", action="store_true", help="only PostgreSQL")
    parser.add_argument("--work", type=Path, default=ROOT / "bench" / "out" / "api")
    parser.add_argument("--load-only", action="store_true", help="load the stores, measure nothing")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="measure the stores a previous run loaded (no load timings)",
    )
    parser.add_argument("--no-report", action="store_true", help="do not write docs/benchmarks")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    sources = [s for s in args.sources.split(",") if s]
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
                "--no-progress",
            ],
            check=True,
            capture_output=True,
        )
    config = bench_config(data, args.work, args.engine)
    tag = f"{args.persons}-{'-'.join(sources)}-{args.engine or 'default'}"
    targets: list[tuple[str, str]] = []
    if not args.no_sqlite:
        db = args.work / f"api-{tag}.db"
        if not args.reuse:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{db}{suffix}").unlink(missing_ok=True)
        targets.append(("SQLite", f"sqlite:///{db}"))
    if args.pg:
        admin = create_engine(
            args.pg.replace("postgresql://", "postgresql+psycopg://", 1),
            isolation_level="AUTOCOMMIT",
        )
        name = "ucp_bench_api_" + tag.replace("-", "_")
        if not args.reuse:
            with admin.connect() as conn:
                conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                conn.execute(text(f"CREATE DATABASE {name}"))
        url = admin.url.set(database=name).render_as_string(hide_password=False)
        admin.dispose()
        targets.append(("PostgreSQL", url.replace("+psycopg", "")))
    rows: list[dict[str, object]] = []
    for label, url in targets:
        print(f"{label}:", flush=True)
        env = {**os.environ, "UCP_DATABASE_URL": url, "UCP_CONFIG_PATH": str(config)}
        timings = {} if args.reuse else load(data, env, sources)
        if timings:
            print(f"  load: {timings}", flush=True)
        if not args.load_only:
            rows += measure(env, url, label, args.seconds, args.connections, timings)
    if rows:
        write_report(rows, args, sources)


def write_report(
    rows: list[dict[str, object]], args: argparse.Namespace, sources: list[str]
) -> None:
    cols = list(dict.fromkeys(c for r in rows for c in r))
    table = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    table += ["| " + " | ".join(str(r.get(c, "")) for c in cols) + " |" for r in rows]
    print("\n".join(table))
    out_dir = ROOT / "bench" / "out"
    out_dir.mkdir(parents=True, exist_ok=True)
    with (out_dir / "api.csv").open("a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=cols)
        writer.writerows(rows)
    if args.no_report:
        return
    command = (
        f"bench/api.py --persons {args.persons} --sources {','.join(sources)}"
        + (f" --engine {args.engine}" if args.engine else "")
        + (" --reuse" if args.reuse else "")
    )
    (ROOT / "docs" / "benchmarks" / "api.md").write_text(
        "# Profile API benchmark\n\n"
        f"`{command}` on this machine (2 cores), server `ucp serve --workers 2`, clients in "
        "other processes on the same machine (they compete for the same two cores).\n\n"
        + "\n".join(table)
        + "\n"
    )


if __name__ == "__main__":
    main()
