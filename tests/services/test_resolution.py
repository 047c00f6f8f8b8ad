"""Sequence neutrality in the store: incremental ingest in any order == deferred batch resolve."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ucp.config import BlockingRuleConfig, ComparisonConfig, UCPConfig, load_config
from ucp.domain.resolution.table import FEATURES_VERSION
from ucp.services.ingest import ingest_file
from ucp.services.resolution import (
    PENDING_BATCH_SHARE,
    ResolveReport,
    build_resolver,
    resolve_all,
    resolve_pending,
)
from ucp.services.training import train_model
from ucp.store import tables as t
from ucp.store.store import Store, now
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
          tmp: Path, config: UCPConfig | None = None) -> None:
    config = config or load_config(data / "ucp.yaml")
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


def _fresh(db_url: str, tmp_path: Path, name: str) -> Store:
    if db_url.startswith("postgresql"):
        from tests.conftest import _truncate_all

        _truncate_all(db_url)
        return Store.open(db_url)
    return Store.open(f"sqlite:///{tmp_path}/{name}.db")


def _groups(store: Store, model_version: str | None = None) -> set[frozenset[tuple[str, str]]]:
    """The stored resolution groups (the incremental path's state), as sets of record keys;
    only those made under `model_version` when given (others are stale by design)."""
    r, s = t.records.c, t.resolution_state.c
    groups: dict[int, set[tuple[str, str]]] = {}
    with store.read() as tx:
        query = select(r.source, r.source_key, s.component).join(
            t.resolution_state, s.record_id == r.id)
        if model_version is not None:
            query = query.where(s.model_version == model_version)
        for source, key, component in tx.conn.execute(query):
            groups.setdefault(component, set()).add((source, key))
        assert tx.conn.execute(select(func.count()).select_from(t.resolution_state)).scalar() \
            == tx.counts()["records"]
    return {frozenset(g) for g in groups.values()}


def test_small_blocks_incremental_equals_batch(db_url: str, generated: Path,
                                               tmp_path: Path) -> None:
    """With `max_block_size` tiny, many blocks are oversized in the whole store but small in
    one component, and ingest pushes blocks over the limit: incremental must skip exactly
    the blocks batch skips, and re-resolve the records of a block that just became too big."""
    base = load_config(generated / "ucp.yaml")
    config = base.model_copy(update={
        "resolution": base.resolution.model_copy(update={"max_block_size": 2})})
    sources = sorted(RECORD_SOURCES)
    batch = _fresh(db_url, tmp_path, "batch")
    _load(batch, generated, sources, None, resolve=False, tmp=tmp_path, config=config)
    resolve_all(batch, build_resolver(config))
    expected, expected_groups = _partition(batch), _groups(batch)
    with batch.read() as tx:
        b = t.blocking_keys.c
        sizes = [n for _, n in tx.conn.execute(select(b.key, func.count()).group_by(b.key))]
    batch.close()
    assert sum(n > 2 for n in sizes) > 10  # the guard matters on this data
    for seed in (4, 5):
        store = _fresh(db_url, tmp_path, f"small-{seed}")
        order = sources[:]
        random.Random(seed).shuffle(order)
        _load(store, generated, order, seed, resolve=True, tmp=tmp_path, config=config)
        assert _partition(store) == expected, f"order seed {seed}"
        assert _groups(store) == expected_groups, f"order seed {seed}"
        store.close()


def test_incremental_under_a_new_model_equals_batch(db_url: str, generated: Path,
                                                    tmp_path: Path) -> None:
    """Stored groups made under one model are not trusted under another: after training, the
    incremental path walks the groups again and still gives the batch partition."""
    config = load_config(generated / "ucp.yaml")
    sources = sorted(RECORD_SOURCES)
    store = _fresh(db_url, tmp_path, "retrained")
    _load(store, generated, sources[:2], 7, resolve=True, tmp=tmp_path)
    train_model(store, config)
    with store.read() as tx:
        model = tx.active_model()
    assert model is not None
    _load(store, generated, sources[2:], 7, resolve=True, tmp=tmp_path)
    got, got_groups = _partition(store), _groups(store, f"fs-{model['version']}")
    store.close()
    assert sum(len(g) for g in got_groups) > 100  # most records were re-resolved

    batch = _fresh(db_url, tmp_path, "retrained-batch")
    _load(batch, generated, sources, None, resolve=False, tmp=tmp_path)
    with batch.write() as tx:
        tx.save_model(model["version"], model["kind"], model["body"], model["report"], now())
    resolve_all(batch, build_resolver(config, batch))
    assert got == _partition(batch)
    assert got_groups <= _groups(batch)  # every group made under the new model is exact
    batch.close()


def test_resolve_pending_takes_the_deferred_records_through_the_incremental_path(
        db_url: str, generated: Path, tmp_path: Path) -> None:
    """`ucp resolve` without --full: records ingested with resolution deferred are resolved
    by the incremental path (few of them) and the partition is the batch one; then nothing
    is pending; after a new model everything is, and it runs as one batch."""
    config = load_config(generated / "ucp.yaml")
    sources = sorted(RECORD_SOURCES)
    deferred = "support_tickets"
    store = _fresh(db_url, tmp_path, "pending")
    _load(store, generated, [s for s in sources if s != deferred], None, resolve=True,
          tmp=tmp_path)
    _load(store, generated, [deferred], None, resolve=False, tmp=tmp_path)
    resolver = build_resolver(config, store)
    with store.read() as tx:
        pending = tx.unresolved_records(resolver.model_version, FEATURES_VERSION)
        total = tx.counts()["records"]
    assert 0 < len(pending) <= PENDING_BATCH_SHARE * total
    report, batch = resolve_pending(store, resolver)
    assert not batch and report.records >= len(pending)
    got = _partition(store)
    assert resolve_pending(store, resolver) == (ResolveReport(0, 0, 0), False)
    assert resolve_all(store, resolver).changes == 0  # nothing left for a batch run to fix

    train_model(store, config)
    retrained = build_resolver(config, store)
    report, batch = resolve_pending(store, retrained)
    assert batch and report.records == total
    store.close()

    reference = _fresh(db_url, tmp_path, "pending-batch")
    _load(reference, generated, sources, None, resolve=False, tmp=tmp_path)
    resolve_all(reference, resolver)
    assert got == _partition(reference)
    reference.close()


def test_comparisons_blocking_and_exact_columns_from_the_config(
        db_url: str, generated: Path, tmp_path: Path) -> None:
    """`resolution:` in ucp.yaml sets the comparisons, the blocking rules and extra exact
    columns: the model is trained with them and the store resolves with them."""
    base = load_config(generated / "ucp.yaml")
    crm = base.sources["crm"]
    sources = {**base.sources, "crm": crm.model_copy(update={
        "mapping": {**crm.mapping, "custom.city": "MailingCity"}})}
    resolution = base.resolution.model_copy(update={
        "comparisons": [ComparisonConfig(name="given_name", kind="given_name", feature="given"),
                        ComparisonConfig(name="family_name", kind="family_name",
                                         feature="family", tf=True),
                        ComparisonConfig(name="email", kind="email", feature="email")],
        "blocking": [BlockingRuleConfig(name="names", features=["name_pair"]),
                     BlockingRuleConfig(name="email", features=["email"])],
        "exact_columns": ["custom.city"]})
    config = base.model_copy(update={"sources": sources, "resolution": resolution})
    store = _fresh(db_url, tmp_path, "configured")
    _load(store, generated, ["crm", "newsletter"], None, resolve=False, tmp=tmp_path,
          config=config)
    model = train_model(store, config).model
    assert [c.name for c in model.comparisons] == [
        "given_name", "family_name", "email", "custom.city"]
    resolver = build_resolver(config, store)
    assert [r.name for r in resolver.settings.all_blocking()] == ["names", "email",
                                                                  "custom.city"]
    resolve_all(store, resolver)
    groups = _partition(store)
    store.close()
    assert sum(len(g) > 1 for g in groups) > 10  # the configured engine finds duplicates
