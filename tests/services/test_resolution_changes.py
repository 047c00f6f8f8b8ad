"""Sequence neutrality with changes: records that move between people, arriving as new
versions in any order, end in exactly the partition a batch run over the final records gives,
and the profiles they leave are split."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pytest

from ucp.config import load_config
from ucp.services.ingest import ingest_file
from ucp.services.resolution import build_resolver, resolve_all
from ucp.store.store import Store
from ucp.synth import generate

from .test_resolution import _partition, _shuffled_copy

SOURCES = {"crm": "crm.csv", "shop_customers": "shop_customers.jsonl",
           "newsletter": "newsletter.csv"}
PERSON = ("FirstName", "LastName", "Email", "Phone", "MailingStreet", "MailingCity",
          "MailingPostalCode", "Birthdate")


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("gen-changes")
    generate(out, persons=120, seed=5)
    return out


def _moved(crm: Path, out: Path, seed: int, count: int = 24) -> Path:
    """crm.csv where `count` contacts take over the person fields of another contact (a
    record now describes someone else: its old profile must split, its new one absorb it)."""
    with crm.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        fields = list(reader.fieldnames or [])
        rows = list(reader)
    picked = sorted(random.Random(seed).sample(range(len(rows)), count))
    people = [{k: rows[i][k] for k in PERSON} for i in picked]
    for i, person in zip(picked, people[1:] + people[:1], strict=True):
        rows[i].update(person)
    path = out / "crm-moved.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return path


def _store(db_url: str, tmp_path: Path, name: str) -> Store:
    if db_url.startswith("postgresql"):
        from tests.conftest import _truncate_all

        _truncate_all(db_url)
        return Store.open(db_url)
    return Store.open(f"sqlite:///{tmp_path}/{name}.db")


def test_records_moving_between_people_split_and_match_batch_in_any_order(
    db_url: str, generated: Path, tmp_path: Path
) -> None:
    config = load_config(generated / "ucp.yaml")
    moved = _moved(generated / "crm.csv", tmp_path, seed=3)
    batch = _store(db_url, tmp_path, "batch")
    for source, name in sorted(SOURCES.items()):
        ingest_file(batch, config, source, generated / name, resolve=False)
    ingest_file(batch, config, "crm", moved, resolve=False)
    resolve_all(batch, build_resolver(config))
    expected = _partition(batch)
    batch.close()
    for seed in (1, 2, 3):
        store = _store(db_url, tmp_path, f"incremental-{seed}")
        order = sorted(SOURCES)
        random.Random(seed).shuffle(order)
        for source in order:
            shuffled = tmp_path / f"{seed}-{SOURCES[source]}"
            _shuffled_copy(generated / SOURCES[source], shuffled, seed)
            ingest_file(store, config, source, shuffled, chunk_size=29)
        before = _partition(store)
        shuffled = tmp_path / f"{seed}-crm-moved.csv"
        _shuffled_copy(moved, shuffled, seed)
        ingest_file(store, config, "crm", shuffled, chunk_size=7)
        after = _partition(store)
        with store.read() as tx:
            kinds = [kind for kind, _, _ in tx.changes_since(0)]
        store.close()
        assert after == expected, f"order seed {seed}"
        assert after != before
        assert "profile.split" in kinds, "moving records out of a profile must split it"
