"""Incremental resolution latency per record with many records already resolved (a benchmark).

Generates persons, bulk-loads all but the last `--hold-out` rows of each record source, trains
and resolves in batch, then feeds the held-out rows one at a time through the real store-backed
incremental path (`SourceIngestor`: map, standardize, store, re-cluster the touched component)
and reports the median and p99 time per record. Finally it checks sequence neutrality: a batch
`resolve_all` afterwards must change nothing. Writes docs/benchmarks/incremental.md.

    .venv/bin/python bench/incremental.py --persons 40000 [--pg URL]
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import os
import pstats
import shutil
import statistics
import sys
import time
from pathlib import Path

from sqlalchemy import create_engine, text

from ucp.config import load_config
from ucp.connectors.files import FileReader
from ucp.services.ingest import IngestReport, RejectWriter, SourceIngestor, ingest_file
from ucp.services.resolution import build_resolver, resolve_all
from ucp.services.training import train_model
from ucp.store.store import Store
from ucp.synth import generate

ROOT = Path(__file__).resolve().parents[1]
SOURCES = {"crm": "crm.csv", "shop_customers": "shop_customers.jsonl",
           "support_tickets": "support_tickets.csv", "newsletter": "newsletter.csv"}


def split_rows(path: Path, hold_out: int, out: Path) -> list[dict]:
    """Write all but the last rows to `out`; return the held-out rows."""
    rows = [row for chunk in FileReader(path).chunks() for _, row in chunk]
    lines = path.read_bytes().splitlines(keepends=True)  # generated rows hold no newlines
    out.write_bytes(b"".join(lines[: len(lines) - hold_out]))
    return rows[len(rows) - hold_out:]


def run(url: str, data: Path, hold_out: int, label: str,
        profile: Path | None = None, snapshot: Path | None = None) -> dict[str, object]:
    """Bulk-load, train and batch-resolve (or, with `snapshot` present, copy that SQLite file
    instead), then feed the held-out rows one at a time."""
    config = load_config(data / "ucp.yaml")
    db = Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite") else None
    reuse = snapshot is not None and snapshot.exists() and db is not None
    if reuse:
        assert snapshot is not None and db is not None
        shutil.copyfile(snapshot, db)
    store = Store.open(url)
    held: dict[str, list[dict]] = {}
    started = time.perf_counter()
    for source, name in SOURCES.items():
        bulk = data / f"bulk-{name}"
        held[source] = split_rows(data / name, hold_out, bulk)
        if not reuse:
            ingest_file(store, config, source, bulk, resolve=False)
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    if not reuse:
        train_model(store, config)
        resolve_all(store, build_resolver(config, store))
    batch_s = time.perf_counter() - started
    if snapshot is not None and db is not None and not reuse:
        store.close()
        shutil.copyfile(db, snapshot)
        store = Store.open(url)
    with store.read() as tx:
        existing = tx.counts()["records"]
    times: list[float] = []
    cpu: list[float] = []  # this process's CPU time: what load from other processes hides
    profiler = cProfile.Profile() if profile else None
    for source, rows in held.items():
        ingestor = SourceIngestor(store, config, source)
        report, rejects = IngestReport(source=source), RejectWriter(None)
        for n, row in enumerate(rows, 1):
            if profiler:
                profiler.enable()
            t0, c0 = time.perf_counter(), time.process_time()
            ingestor.ingest_chunk([(n, row)], report, rejects)
            times.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
            if profiler:
                profiler.disable()
    if profiler and profile:
        profiler.dump_stats(str(profile))
        pstats.Stats(str(profile)).sort_stats("cumulative").print_stats(40)
    with store.read() as tx:
        before = {(s, k): p for s, k, p in tx.memberships()}
    report = resolve_all(store, build_resolver(config, store))
    with store.read() as tx:
        after = {(s, k): p for s, k, p in tx.memberships()}
    store.close()
    times.sort()
    cpu.sort()
    row = {
        "store": label,
        "records_before": existing,
        "incremental_records": len(times),
        "median_ms": round(statistics.median(times), 2),
        "p99_ms": round(times[int(len(times) * 0.99) - 1], 2),
        "max_ms": round(times[-1], 2),
        "cpu_median_ms": round(statistics.median(cpu), 2),
        "cpu_p99_ms": round(cpu[int(len(cpu) * 0.99) - 1], 2),
        "bulk_load_s": round(load_s, 1),
        "train_and_batch_s": round(batch_s, 1),
        "batch_after_changes": report.changes,
        "same_partition": before == after,
    }
    print(row, flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--persons", type=int, default=40_000)
    parser.add_argument("--hold-out", type=int, default=100, help="rows per source fed singly")
    parser.add_argument("--pg", help="PostgreSQL URL (a database ucp_bench_incr is made)")
    parser.add_argument("--work", type=Path, default=ROOT / "bench" / "out" / "incremental")
    parser.add_argument("--profile", type=Path, help="cProfile the incremental loop into this file")
    parser.add_argument("--no-write", action="store_true", help="do not write the docs page")
    parser.add_argument("--snapshot", type=Path,
                        help="SQLite only: reuse this copy of the loaded, resolved store if it "
                             "exists (else make it), to time code changes without reloading")
    args = parser.parse_args()
    gc.set_threshold(50_000, 20, 100)
    data = args.work / f"data-{args.persons}"
    if not (data / "truth.csv").exists():
        generate(data, persons=args.persons, seed=5)
    rows = []
    db = args.work / f"incr-{args.persons}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    rows.append(run(f"sqlite:///{db}", data, args.hold_out, "SQLite", args.profile,
                    args.snapshot))
    if args.pg:
        admin = create_engine(args.pg.replace("postgresql://", "postgresql+psycopg://", 1),
                              isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("DROP DATABASE IF EXISTS ucp_bench_incr WITH (FORCE)"))
            conn.execute(text("CREATE DATABASE ucp_bench_incr"))
        url = admin.url.set(database="ucp_bench_incr").render_as_string(hide_password=False)
        rows.append(run(url, data, args.hold_out, "PostgreSQL"))
    cols = list(rows[0])
    table = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    table += ["| " + " | ".join(str(r[c]) for c in cols) + " |" for r in rows]
    print("\n".join(table))
    if args.no_write:
        return
    (ROOT / "docs" / "benchmarks" / "incremental.md").write_text(
        "# Incremental resolution latency\n\n"
        f"`bench/incremental.py {' '.join(sys.argv[1:])}` on this machine (2 cores; with "
        "`--snapshot` the SQLite store was loaded, trained and resolved by an earlier run of "
        "the same command). Records are fed one at a time through the store-backed incremental "
        "path (map, standardize, store, re-cluster the touched component) after the rest was "
        "bulk-loaded, trained and resolved. `*_ms`: wall time per record; `cpu_*_ms`: this "
        "process's CPU time per record (the machine is shared, so wall time includes waiting "
        "for a core; PostgreSQL's own work is not in it). `same_partition`: a batch "
        "`resolve_all` afterwards changed no membership (sequence neutrality). Load average "
        f"when it finished: {os.getloadavg()[0]:.1f}.\n\n" + "\n".join(table) + "\n"
    )


if __name__ == "__main__":
    sys.exit(main())
