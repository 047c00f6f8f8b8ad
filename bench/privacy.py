"""Benchmark: erase a person who has a profile with 1,000 events, on SQLite and PostgreSQL.

Each run loads the same small world (three people, one of them with 1,000 collector events,
plus `--others` bystander profiles with events of their own), erases the person by email and
times the erasure request end to end (find, delete, re-cluster, suppress, tombstone, audit).
Prints a table and writes docs/benchmarks/privacy.md.

    python bench/privacy.py [--events 1000] [--others 2000] [--repeat 3]
        [--postgres postgresql://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import datetime
import platform
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.privacy_support import (  # noqa: E402
    ANN_EMAIL,
    SECRET,
    config,
    events_ingestor,
    load_people,
    segment,
    track_ann,
    write_csv,
)

from ucp.services import privacy  # noqa: E402
from ucp.services.ingest import ingest_file  # noqa: E402
from ucp.store.engine import normalize_url  # noqa: E402
from ucp.store.store import Store  # noqa: E402


def _bystanders(store: Store, tmp: Path, n: int) -> None:
    rows = [
        {
            "id": f"B{i}",
            "first": f"Given{i}",
            "last": f"Family{i}",
            "email": f"person{i}@bystander.org",
            "phone": f"+4477009{i:05d}",
            "dob": "1970-01-01",
            "street": f"{i} High St",
            "postcode": "EH1 1AA",
        }
        for i in range(n)
    ]
    ingest_file(store, config(), "crm", write_csv(tmp / "others.csv", rows), secret=SECRET)


def run_once(url: str, events: int, others: int) -> float:
    cfg = config()
    store = Store.open(url)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        load_people(store, cfg, tmp)
        _bystanders(store, tmp, others)
        segment(events_ingestor(store, cfg), [track_ann(n) for n in range(2, events + 2)])
    started = time.perf_counter()
    view = privacy.create_request(store, cfg, "erasure", ANN_EMAIL, "bench", secret=SECRET)
    seconds = time.perf_counter() - started
    assert view["result"]["erasure"]["events"] >= events
    store.close()
    return seconds


def _pg_database(base: str) -> tuple[str, object]:
    admin = create_engine(normalize_url(base), isolation_level="AUTOCOMMIT")
    name = f"ucp_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    return admin.url.set(database=name).render_as_string(hide_password=False), (admin, name)


def _drop(handle: object) -> None:
    admin, name = handle  # type: ignore[misc]
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--others", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--postgres", default=None, help="PostgreSQL server URL (optional)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks" / "privacy.md")
    args = parser.parse_args()

    results: dict[str, list[float]] = {}
    for backend in ("sqlite", "postgresql"):
        if backend == "postgresql" and not args.postgres:
            continue
        times = []
        for _ in range(args.repeat):
            if backend == "sqlite":
                with tempfile.TemporaryDirectory() as d:
                    times.append(run_once(f"sqlite:///{d}/bench.db", args.events, args.others))
            else:
                url, handle = _pg_database(args.postgres)
                try:
                    times.append(run_once(url, args.events, args.others))
                finally:
                    _drop(handle)
        results[backend] = times

    lines = [
        "| backend | events of the person | bystander profiles | best (s) | median (s) |",
        "|---|---:|---:|---:|---:|",
    ]
    for backend, times in results.items():
        lines.append(
            f"| {backend} | {args.events + 1} | {args.others} | {min(times):.3f} "
            f"| {statistics.median(times):.3f} |"
        )
    table = "\n".join(lines)
    print(table)
    doc = f"""# Privacy benchmark: erasure

`python bench/privacy.py --events {args.events} --others {args.others} --repeat {args.repeat}` \
on {platform.machine()} / Python {platform.python_version()}, \
{datetime.date.today().isoformat()}.

One erasure request by email (`POST /v1/privacy/requests` does the same work): find the
person's records, delete every version, identifier, link and event, re-cluster the profile the
person shared with someone else, put the person's identifiers on the suppression list, tombstone
the audit log and write the audit entry — one transaction.

{table}

The goal is under one second for a profile with 1,000 events on both backends.
"""
    args.out.write_text(doc, encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
