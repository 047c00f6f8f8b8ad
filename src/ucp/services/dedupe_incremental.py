"""`ucp dedupe --incremental`: a file's records one at a time through the store's incremental
path, in any order, ending in the batch dedupe's clusters (design.md §3, sequence neutrality).

The model is trained on the whole file exactly as the batch dedupe trains it. Then a
temporary SQLite store is made and each record, in the order `order_seed` shuffles, is
stored and resolved on its own by the real ingest path (`SourceIngestor.apply_prepared`:
records, identifiers and blocking keys written, the touched resolution groups re-clustered
by `resolve_touched`). A record carries the attributes the batch dedupe standardizes from its
row, and the store resolves with the batch dedupe's settings and identifier policy, so the
partition must be the batch one; the result says whether it is.
"""

from __future__ import annotations

import hashlib
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from ucp.config import IdentifierRule, SourceConfig, UCPConfig
from ucp.domain.features import ATTRIBUTE_KINDS
from ucp.domain.model import Identifier, RecordKey, ResolvableRecord
from ucp.domain.resolution.fs_model import Model
from ucp.domain.search import record_terms
from ucp.domain.standardize import Context, DateOrder, standardize
from ucp.domain.standardize.simple import fold_words
from ucp.errors import InputError
from ucp.services.dedupe import (
    IDENTIFIERS,
    ColumnMap,
    attribute_values,
    dedupe_columns,
    dedupe_settings,
    exact_feature,
    read_table,
    recognise_columns,
    write_clusters,
)
from ucp.services.ingest import IngestReport, Prepared, RejectWriter, SourceIngestor
from ucp.services.resolution import StoreResolver
from ucp.store.store import Store, now

#: the temporary store's one source
SOURCE = "input"


@dataclass(slots=True)
class IncrementalDedupe:
    """Cluster id per input id, the model, each record's time through the incremental path
    (in feeding order), phase timings and a summary (with `same_as_batch`)."""

    clusters: dict[str, str]
    model: Model
    latencies_ms: list[float]
    timings: dict[str, float]
    summary: dict[str, Any]


def dedupe_file_incremental(
    path: Path,
    id_col: str,
    out: Path | None = None,
    *,
    mapping: Mapping[str, str] | None = None,
    auto: float | None = None,
    country: str | None = None,
    date_order: DateOrder = "YMD",
    order_seed: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> IncrementalDedupe:
    """Dedupe a file record by record through a temporary store (module doc); writes
    `id,cluster_id` to `out` when given. `progress(done, total)` is called as records go in."""
    timings: dict[str, float] = {}
    started = time.perf_counter()
    data = read_table(path)
    if id_col not in data:
        raise InputError(f"no id column {id_col!r}; columns are: {', '.join(data)}",
                         field=id_col)
    ids = list(data[id_col])
    columns = recognise_columns(list(data), id_col, mapping)
    ctx = Context(country=country.upper() if country else None, date_order=date_order)
    batch = dedupe_columns(dict(data), id_col, mapping=mapping, auto=auto, country=country,
                           date_order=date_order)
    model = batch.model
    settings = dedupe_settings(batch.resolution.table, columns.exact, auto)
    timings["batch"] = time.perf_counter() - started
    rows = _attribute_rows(data, columns, ctx)
    order = list(range(len(ids)))
    if order_seed is not None:
        random.Random(order_seed).shuffle(order)
    latencies: list[float] = []
    t = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="ucp-dedupe-") as tmp:
        store = Store.open(f"sqlite:///{Path(tmp) / 'store.db'}")
        try:
            config = _config(id_col)
            with store.write() as tx:
                tx.save_model(model.version, "fellegi-sunter", orjson.loads(model.to_json()),
                              batch.training.to_dict(), now())
            resolver = StoreResolver(config, model, settings=settings, policies=IDENTIFIERS)
            ingestor = SourceIngestor(store, config, SOURCE, resolver=resolver)
            report, rejects = IngestReport(source=SOURCE), RejectWriter(None)
            for done, i in enumerate(order, 1):
                payload = _payload(ids[i], rows[i], resolver)
                t0 = time.perf_counter()
                ingestor.apply_prepared([Prepared(done, "record", ids[i], payload)], report,
                                        rejects)
                latencies.append((time.perf_counter() - t0) * 1000)
                if progress is not None:
                    progress(done, len(order))
            with store.read() as tx:
                members = [(key, pid) for _, key, pid in tx.memberships()]
        finally:
            store.close()
    timings["incremental"] = time.perf_counter() - t
    clusters = _cluster_ids(members)
    timings["total"] = time.perf_counter() - started
    if out is not None:
        write_clusters(out, clusters, ids)
    ordered = sorted(latencies)
    sizes: dict[str, int] = {}
    for cluster in clusters.values():
        sizes[cluster] = sizes.get(cluster, 0) + 1
    summary = {
        "records": len(ids),
        "clusters": len(sizes),
        "multi_record_clusters": sum(1 for n in sizes.values() if n > 1),
        "largest_cluster": max(sizes.values(), default=0),
        "order_seed": order_seed,
        "median_ms": round(statistics.median(ordered), 2) if ordered else 0.0,
        "p99_ms": round(ordered[max(int(len(ordered) * 0.99) - 1, 0)], 2) if ordered else 0.0,
        "same_as_batch": _partition(clusters) == _partition(batch.clusters),
        "model_version": model.version,
        "columns": dict(columns.attributes),
        "exact_columns": list(columns.exact),
    }
    return IncrementalDedupe(clusters, model, latencies, timings, summary)


def _config(id_col: str) -> UCPConfig:
    """The temporary store's configuration: one record source keyed by the id column, email
    as its identifier type (records come prepared: its mapping is not used)."""
    return UCPConfig(sources={SOURCE: SourceConfig(kind="records", source_key=id_col)},
                     identifiers={"email": IdentifierRule()})


def _attribute_rows(data: Mapping[str, Sequence[str]], columns: ColumnMap,
                    ctx: Context) -> list[dict[str, dict[str, Any]]]:
    """Per row, its attributes as the store keeps them (`{raw, value, match, parts, flags}`),
    standardized as the batch dedupe standardizes them: each recognised attribute by its kind,
    `address_line2` and the exact columns by folding, in the batch's order (a later attribute
    that gives the same feature wins, as in `build_table`)."""
    n = len(next(iter(data.values()), []))
    rows: list[dict[str, dict[str, Any]]] = [{} for _ in range(n)]
    for attribute, values in attribute_values(data, columns):
        for row, raw in zip(rows, values, strict=True):
            if raw:
                row[attribute] = _standardized(attribute, raw, ctx)
    for column in columns.exact:
        for row, raw in zip(rows, data[column], strict=True):
            if raw:
                # an attribute the features do not name becomes `x:<name>`, the folded words
                # of its match: a folded key is its own folded words
                key = exact_feature(raw)
                row[column] = {"raw": raw, "value": key, "match": key, "parts": {}, "flags": []}
    return rows


def _standardized(attribute: str, raw: str, ctx: Context) -> dict[str, Any]:
    if attribute == "address_line2":
        folded = fold_words(raw)
        return {"raw": raw, "value": folded, "match": folded, "parts": {}, "flags": []}
    s = standardize(ATTRIBUTE_KINDS[attribute], raw, ctx)
    return {"raw": s.input, "value": s.value, "match": s.match, "parts": dict(s.parts),
            "flags": list(s.flags)}


def _payload(key: str, attributes: dict[str, dict[str, Any]],
             resolver: StoreResolver) -> dict[str, Any]:
    """A prepared record of the store's one source (what `RowPreparer` makes from a row)."""
    email = attributes.get("email", {}).get("match")
    identifiers = [("email", email, True)] if email else []
    record = ResolvableRecord(RecordKey(SOURCE, key),
                              tuple(Identifier(t, v) for t, v, _ in identifiers), attributes)
    raw = {name: a["raw"] for name, a in attributes.items()}
    return {
        "source": SOURCE,
        "source_key": key,
        "hash": hashlib.sha256(orjson.dumps(raw, option=orjson.OPT_SORT_KEYS)).hexdigest(),
        "raw": raw,
        "attributes": attributes,
        "identifiers": identifiers,
        "terms": sorted(record_terms(attributes)),
        "blocking_keys": resolver.blocking_keys([record])[0],
    }


def _cluster_ids(members: Sequence[tuple[str, str | None]]) -> dict[str, str]:
    """Per id, its cluster's id: the smallest id of its profile (as the batch dedupe names
    clusters: the first record in id order)."""
    first: dict[str, str] = {}
    for key, pid in members:
        group = pid or key
        first[group] = min(first.get(group, key), key)
    return {key: first[pid or key] for key, pid in members}


def _partition(clusters: Mapping[str, str]) -> set[frozenset[str]]:
    groups: dict[str, set[str]] = {}
    for key, cluster in clusters.items():
        groups.setdefault(cluster, set()).add(key)
    return {frozenset(g) for g in groups.values()}
