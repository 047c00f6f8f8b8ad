"""Sequence neutrality in the store: incremental ingest in any order == deferred batch resolve."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from ucp.config import load_config
from ucp.services.ingest import ingest_file
from ucp.services.resolution import build_resolver, resolve_all
from ucp.store.store import Store
from ucp.synth import generate

RECORD_SOURCES = {"crm": "crm.csv", "shop_customers": "shop_customers.jsonl",
                  "support_tickets": "support_tickets.csv", "newsletter": "newsletter.csv"}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("gen")
    generate(out, persons=150, seed=11)
    return out


def _shuffled_copy(src: Path, dst: Path, seed: int) -> None:
    """The same rows in another order (header kept for CSV)."""
    lines = src.read_bytes().splitlines(keepends=True)
    header, rows = (lines[:1], lines[1:]) if src.suffix == ".csv" else ([], lines)
    random.Random(seed).shuffle(rows)
    dst.write_bytes(b"".join(header + rows))


def _partition(store: Store) -> set[frozenset[tuple[str, str]]]:
    groups: dict[str, set[tuple[str, str]]] = {}
    with store.read() as tx:
        for source, key, pid in tx.memberships():
            assert pid is not None
            groups.setdefault(pid, set()).add((source, key))
    return {frozenset(g) for g in groups.values()}


def _load(store: Store, data: Path, order: list[str], seed: int | None, resolve: bool,
          tmp: Path) -> None:
    config = load_config(data / "ucp.yaml")
    for source in order:
        path = data / RECORD_SOURCES[source]
        if seed is not None:
            shuffled = tmp / f"{seed}-{path.name}"
            _shuffled_copy(path, shuffled, seed)
            path = shuffled
        ingest_file(store, config, source, path, chunk_size=37, resolve=resolve)


def test_incremental_in_three_orders_equals_batch(
    db_url: str, generated: Path, tmp_path: Path
) -> None:
    config = load_config(generated / "ucp.yaml")
    sources = sorted(RECORD_SOURCES)
    batch = Store.open(db_url)
    _load(batch, generated, sources, None, resolve=False, tmp=tmp_path)
    resolve_all(batch, build_resolver(config))
    expected = _partition(batch)
    batch.close()
    assert len(expected) > 50
    for seed in (1, 2, 3):
        url = db_url if db_url.startswith("postgresql") else f"sqlite:///{tmp_path}/{seed}.db"
        if url == db_url:
            from tests.conftest import _truncate_all

            _truncate_all(url)
        store = Store.open(url)
        order = sources[:]
        random.Random(seed).shuffle(order)
        _load(store, generated, order, seed, resolve=True, tmp=tmp_path)
        assert _partition(store) == expected, f"order seed {seed}"
        store.close()


def test_batch_resolve_twice_changes_nothing(db_url: str, generated: Path, tmp_path: Path) -> None:
    config = load_config(generated / "ucp.yaml")
    store = Store.open(db_url)
    _load(store, generated, sorted(RECORD_SOURCES), None, resolve=True, tmp=tmp_path)
    with store.read() as tx:
        before = {(s, k): p for s, k, p in tx.memberships()}
        changes = tx.counts()
    report = resolve_all(store, build_resolver(config))
    with store.read() as tx:
        assert {(s, k): p for s, k, p in tx.memberships()} == before
        assert tx.counts()["links"] == changes["links"]
    assert report.changes == 0
    store.close()
