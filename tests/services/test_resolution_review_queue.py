"""The incremental path keeps the review queue a batch resolution would build.

A new record re-resolves its group; the open review items between another record of that group
and a record outside it still stand (neither end changed) and must not be dropped.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ucp.config import load_config
from ucp.connectors.files import FileReader
from ucp.services.ingest import IngestReport, RejectWriter, SourceIngestor, ingest_file
from ucp.services.resolution import build_resolver, resolve_all
from ucp.services.training import train_model
from ucp.store.store import Store
from ucp.synth import generate

from .test_resolution import RECORD_SOURCES

HELD_OUT = 12


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("gen-review")
    generate(out, persons=400, seed=23)
    return out


def _split(path: Path, out: Path) -> list[dict[str, object]]:
    """Write all but the last rows to `out`; the held-out rows."""
    rows = [row for chunk in FileReader(path).chunks() for _, row in chunk]
    lines = path.read_bytes().splitlines(keepends=True)
    out.write_bytes(b"".join(lines[: len(lines) - HELD_OUT]))
    return rows[len(rows) - HELD_OUT :]


def _queue(store: Store) -> set[tuple[int, int, float]]:
    with store.read() as tx:
        rows = tx.conn.exec_driver_sql(
            "SELECT record_a, record_b, weight FROM review_items WHERE status = 'open'"
        ).all()
    return {(a, b, round(w, 6)) for a, b, w in rows}


def test_one_record_at_a_time_keeps_the_batch_review_queue(
    db_url: str, generated: Path, tmp_path: Path
) -> None:
    config = load_config(generated / "ucp.yaml")
    store = Store.open(db_url)
    held = {}
    for source, name in RECORD_SOURCES.items():
        bulk = tmp_path / f"bulk-{name}"
        held[source] = _split(generated / name, bulk)
        ingest_file(store, config, source, bulk, resolve=False)
    train_model(store, config)
    resolve_all(store, build_resolver(config, store))
    before = _queue(store)
    for source, rows in held.items():
        ingestor = SourceIngestor(store, config, source)
        report, rejects = IngestReport(source=source), RejectWriter(None)
        for n, row in enumerate(rows, 1):
            ingestor.ingest_chunk([(n, row)], report, rejects)
        assert report.inserted == len(rows)
    incremental = _queue(store)
    with store.read() as tx:
        memberships = set(tx.memberships())
    report = resolve_all(store, build_resolver(config, store))
    batch = _queue(store)
    with store.read() as tx:
        assert set(tx.memberships()) == memberships
    store.close()
    assert report.changes == 0
    assert len(before) > 20  # the queue matters on this data
    assert incremental == batch
