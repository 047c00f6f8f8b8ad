"""Ingest: source rows → mapped → standardized → stored as record versions → resolved.

Each chunk of rows is one transaction that stores the rows *and* re-clusters the components they
touch, so a killed ingest leaves a consistent store, and re-running it stores nothing twice
(unchanged rows are recognised by their content hash).
"""

from __future__ import annotations

import csv
import hashlib
import multiprocessing
import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from multiprocessing.pool import AsyncResult
from pathlib import Path
from typing import IO, Any

import orjson

from ucp.config import SourceConfig, UCPConfig
from ucp.connectors.files import FileReader, Row, RowError
from ucp.domain.mapping import MappingProblem, RowMapping
from ucp.domain.model import Identifier, MappedEvent, MappedRow, RecordKey, ResolvableRecord
from ucp.domain.search import record_terms
from ucp.domain.standardize import Context, standardize, standardize_record
from ucp.services import audit, suppression
from ucp.services.consent import IngestConsent
from ucp.services.identifiers import IdentifierStandardizer
from ucp.services.resolution import (
    NewRecord,
    StoreResolver,
    build_resolver,
    opened_blocks,
    resolve_touched,
)
from ucp.store.store import Store, now

_SEGMENT_EVENT_NAMES = {"page": "Page Viewed", "screen": "Screen Viewed"}


@dataclass(slots=True)
class IngestReport:
    """What an ingest did; `rejected` > 0 makes the CLI exit non-zero."""

    source: str
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    skipped: int = 0
    suppressed: int = 0
    consent_entries: int = 0
    events_inserted: int = 0
    events_known: int = 0
    profiles_touched: int = 0
    seconds: float = 0.0
    rejects_path: str | None = None
    reject_reasons: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__}  # type: ignore[attr-defined]


class RejectWriter:
    """Writes rejected rows (row number, key, field, reason — never the values) as CSV."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._file: IO[str] | None = None
        self._writer: Any = None

    def write(self, row: int, source_key: str | None, field_name: str | None, reason: str) -> None:
        if self.path is None:
            return
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.path.open("w", newline="", encoding="utf-8")
            self._writer = csv.writer(self._file)
            self._writer.writerow(["row", "source_key", "field", "reason"])
        self._writer.writerow([row, source_key or "", field_name or "", reason])
        assert self._file is not None
        self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


def _json_safe(row: Mapping[str, Any]) -> tuple[dict[str, Any], str]:
    data = orjson.dumps(row, default=str, option=orjson.OPT_SORT_KEYS)
    return orjson.loads(data), hashlib.sha256(data).hexdigest()


@dataclass(frozen=True, slots=True)
class Prepared:
    """One row after the pure steps: a record or event payload, a skip, or a problem."""

    row: int
    kind: str  # record | event | skip | error
    key: str | None = None
    payload: Any = None
    field: str | None = None
    reason: str | None = None


class RowPreparer:
    """The pure half of ingest: map, standardize and hash rows of one source (no store).

    Kept apart so chunks can be prepared in worker processes while the store writes.
    """

    def __init__(self, config: UCPConfig, source: str) -> None:
        self.name = source
        self.source: SourceConfig = config.source(source)
        self.mapping = RowMapping(
            source, self.source.source_key, self.source.mapping, self.source.identifiers
        )
        self.context = Context(
            country=self.source.default_country, date_order=self.source.date_order
        )
        self.identifiers = IdentifierStandardizer(config)
        # blocking keys depend on the configured rules only, not on the trained model
        self.blocker = build_resolver(config)

    def prepare(self, chunk: Iterable[Row]) -> list[Prepared]:
        """Prepared rows of one chunk; record payloads carry their blocking keys."""
        out = self._prepare(chunk)
        # a key repeated in the chunk is rejected later; its first row is the one stored
        firsts = {p.key: p.payload for p in reversed(out) if p.kind == "record"}
        payloads = list(firsts.values())
        keys = self.blocker.blocking_keys([_resolvable(p) for p in payloads])
        for payload, k in zip(payloads, keys, strict=True):
            payload["blocking_keys"] = k
        return out

    def _prepare(self, chunk: Iterable[Row]) -> list[Prepared]:
        out: list[Prepared] = []
        for n, row in chunk:
            if isinstance(row, RowError):
                out.append(Prepared(n, "error", None, None, row.field, row.reason))
                continue
            kind = self._classify(row)
            if kind == "skip":
                out.append(Prepared(n, "skip"))
                continue
            key: str | None = None
            try:
                if kind == "record":
                    raw, digest = _json_safe(row)  # an event keeps only what it maps
                    mapped = self.mapping.map_record(row)
                    key = mapped.key.source_key
                    out.append(Prepared(n, kind, key, self._record_payload(mapped, raw, digest)))
                else:
                    ev = self._map_event(row)
                    key = ev.event_key
                    out.append(Prepared(n, kind, key, self._event_payload(ev)))
            except MappingProblem as exc:
                key = key or self._key_or_none(row)
                out.append(Prepared(n, "error", key, None, exc.field, exc.reason))
        return out

    def _key_or_none(self, row: dict[str, Any]) -> str | None:
        try:
            return self.mapping.key_of(row)
        except MappingProblem:
            return None

    def _record_payload(
        self, mapped: MappedRow, raw: dict[str, Any], digest: str
    ) -> dict[str, Any]:
        country = self.context.country
        std = standardize_record(mapped.attributes, self.context)
        if "country" in std and std["country"].value:
            country = std["country"].value
        attributes = {
            name: {
                "raw": s.input,
                "value": s.value,
                "match": s.match,
                "parts": dict(s.parts),
                "flags": list(s.flags),
            }
            for name, s in sorted(std.items())
        }
        idents = sorted(
            {
                ident
                for id_type, value in mapped.identifiers.items()
                if (ident := self.identifiers.identifier(id_type, value, country)) is not None
            }
        )
        return {
            "source": self.name,
            "source_key": mapped.key.source_key,
            "hash": digest,
            "raw": raw,
            "attributes": attributes,
            "identifiers": idents,
            "terms": sorted(record_terms(attributes)),
        }

    def _event_payload(self, ev: MappedEvent) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        occurred = (
            standardize("timestamp", ev.occurred_at, self.context) if ev.occurred_at else None
        )
        idents = sorted(
            {
                (i[0], i[1])
                for id_type, value in ev.identifiers.items()
                if (i := self.identifiers.identifier(id_type, value, self.context.country))
                is not None
            }
        )
        properties, _ = _json_safe(ev.properties)
        row = {
            "source": self.name,
            "event_key": ev.event_key,
            "name": ev.name[:128],
            "occurred_at": _parse_iso(occurred.value) if occurred and occurred.value else None,
            "received_at": now(),
            "identifiers": dict(idents),
            "properties": properties,
        }
        return row, idents

    def _classify(self, row: dict[str, Any]) -> str:
        if self.source.kind == "records":
            return "record"
        if self.source.kind == "events":
            return "event"
        msg_type = str(row.get("type", "")).lower()
        if msg_type == "identify":
            return "record"
        if msg_type in ("track", "page", "screen"):
            return "event"
        return "skip"

    def _map_event(self, row: dict[str, Any]) -> MappedEvent:
        spec = self.source.event
        if spec is not None:
            return self.mapping.map_event(
                row, spec.name, spec.name_path, spec.timestamp, spec.properties
            )
        # Segment-spec message: event name from `event`, or Page/Screen Viewed
        msg_type = str(row.get("type", "")).lower()
        name = None if msg_type == "track" else _SEGMENT_EVENT_NAMES[msg_type]
        mapped = self.mapping.map_event(
            row, name, "event" if name is None else None, "timestamp", ["properties", "context"]
        )
        return mapped


class SourceIngestor:
    """Turns rows of one source into stored records and events; shared by files and collector."""

    def __init__(
        self,
        store: Store,
        config: UCPConfig,
        source: str,
        resolve: bool = True,
        secret: bytes | None = None,
        resolver: StoreResolver | None = None,
    ) -> None:
        """`resolver`: the one to resolve with (default: the configured one, with the store's
        active model)."""
        self.store = store
        self.config = config
        self.name = source
        # privacy (issue 8): the suppression list needs the keyed-hash secret; consent hook
        self.secret = secret
        self.consent = IngestConsent(config, source)
        self.preparer = RowPreparer(config, source)
        self.source = self.preparer.source
        self.resolver = resolver or build_resolver(config, store)
        self.resolve = resolve
        self._seen_keys: dict[int, int] = {}
        with store.write() as tx:
            tx.ensure_source(source, self.source.kind, self.source.trust_rank)

    # -- one chunk = one transaction -------------------------------------------------------
    def ingest_chunk(
        self, chunk: Iterable[Row], report: IngestReport, rejects: RejectWriter
    ) -> None:
        self.apply_prepared(self.preparer.prepare(chunk), report, rejects)

    def apply_prepared(
        self, prepared: Iterable[Prepared], report: IngestReport, rejects: RejectWriter
    ) -> None:
        """Check keys, report problems and store one prepared chunk in one transaction."""
        records: dict[str, tuple[int, dict[str, Any]]] = {}
        events: dict[str, tuple[dict[str, Any], list[tuple[str, str]]]] = {}
        for item in prepared:
            report.rows += 1
            if item.kind == "error":
                self._reject(report, rejects, item.row, item.key, item.field, item.reason or "")
            elif item.kind == "skip":
                report.skipped += 1
            elif item.kind == "record":
                assert item.key is not None
                first = self._first_row_of(item.key, item.row)
                if first != item.row:
                    self._reject(
                        report,
                        rejects,
                        item.row,
                        item.key,
                        self.source.source_key,
                        f"duplicate source key (first at row {first})",
                    )
                    continue
                records[item.key] = (item.row, item.payload)
            else:
                assert item.key is not None
                events[item.key] = item.payload
        self._store(records, events, report)

    def _blocking_keys(
        self, changed: list[tuple[int, dict[str, Any]]]
    ) -> list[tuple[int, list[str]]]:
        """Blocking keys of changed records (the preparer usually computed them already)."""
        if all("blocking_keys" in payload for _, payload in changed):
            return [(rid, payload["blocking_keys"]) for rid, payload in changed]
        keys = self.resolver.blocking_keys([_resolvable(p) for _, p in changed])
        return [(rid, k) for (rid, _), k in zip(changed, keys, strict=True)]

    def _first_row_of(self, key: str, n: int) -> int:
        h = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big")
        return self._seen_keys.setdefault(h, n)

    def _reject(
        self,
        report: IngestReport,
        rejects: RejectWriter,
        n: int,
        key: str | None,
        field_name: str | None,
        reason: str,
    ) -> None:
        report.rejected += 1
        label = reason.split(" (")[0]
        report.reject_reasons[label] = report.reject_reasons.get(label, 0) + 1
        rejects.write(n, key, field_name, reason)

    def _store(
        self,
        records: dict[str, tuple[int, dict[str, Any]]],
        events: dict[str, tuple[dict[str, Any], list[tuple[str, str]]]],
        report: IngestReport,
    ) -> None:
        at = now()
        with self.store.write() as tx:
            report.suppressed += suppression.drop_suppressed(tx, self.secret, records, events)
            touched: list[int] = []
            stored: list[dict[str, Any]] = []
            keys_before: dict[int, list[str]] = {}
            keys_after: list[tuple[int, list[str]]] = []
            fresh: list[tuple[dict[str, Any], list[tuple[str, str]]]] = []
            ids: list[int] = []
            new_rows: list[dict[str, Any]] = []
            if records:
                existing = tx.existing_records_by_key(self.name, list(records))
                versions = []
                idents: list[tuple[int, Any]] = []
                for key, (_, payload) in records.items():
                    known = existing.get(key)
                    if known is None:
                        new_rows.append(payload)
                    elif known.content_hash == payload["hash"]:
                        report.unchanged += 1
                    else:
                        versions.append({**payload, "id": known.id, "version": known.version + 1})
                        idents.append((known.id, payload["identifiers"]))
                # new records: one set-based write per table; changed ones: replace in place
                for (_, keys), payload in zip(
                    self._blocking_keys([(0, p) for p in new_rows]), new_rows, strict=True
                ):
                    payload["blocking_keys"] = keys
                ids = tx.insert_new_records(new_rows, at)
                tx.add_versions(versions, at)
                tx.set_identifiers(idents)
                tx.set_search_terms([(v["id"], v["terms"]) for v in versions])
                if versions and self.resolve:
                    keys_before = tx.blocking_keys_of(v["id"] for v in versions)
                keys_after = self._blocking_keys([(v["id"], v) for v in versions])
                tx.set_blocking_keys(keys_after)
                report.inserted += len(new_rows)
                report.updated += len(versions)
                touched = [*ids, *(rid for rid, _ in idents)]
                stored = new_rows + versions
            if events:
                known_events = tx.existing_event_keys(self.name, list(events))
                fresh = [events[k] for k in events if k not in known_events]
                report.events_known += len(events) - len(fresh)
                tx.insert_events([r for r, _ in fresh], [i for _, i in fresh])
                report.events_inserted += len(fresh)
            report.consent_entries += self.consent.record(tx, stored, fresh, at)
            if touched and self.resolve:
                written = {
                    rid: _resolvable(payload)
                    for rid, payload in zip(touched, stored, strict=True)
                }
                inserted = {
                    rid: NewRecord(written[rid], payload["hash"], payload["blocking_keys"])
                    for rid, payload in zip(ids, new_rows, strict=True)
                }
                # a changed record may have left a block that is small enough to pair now
                opened = opened_blocks(tx, self.resolver, keys_before, dict(keys_after))
                seeds = [*touched, *sorted(opened.difference(touched))]
                result = resolve_touched(tx, self.resolver, seeds, at, written, inserted)
                report.profiles_touched += result.profiles_touched


def _resolvable(payload: dict[str, Any]) -> ResolvableRecord:
    return ResolvableRecord(
        RecordKey(payload["source"], payload["source_key"]),
        tuple(sorted(Identifier(t, v) for t, v, linkable in payload["identifiers"] if linkable)),
        payload["attributes"],
    )


def _parse_iso(value: str) -> Any:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


_worker_preparer: RowPreparer | None = None
_POOL_MIN_BYTES = 2_000_000


def _init_worker(config: UCPConfig, source: str) -> None:
    global _worker_preparer
    _worker_preparer = RowPreparer(config, source)


def _prepare_in_worker(chunk: list[Row]) -> list[Prepared]:
    assert _worker_preparer is not None
    return _worker_preparer.prepare(chunk)


def _prepared_chunks(
    reader: FileReader, config: UCPConfig, source: str, preparer: RowPreparer, workers: int
) -> Iterator[list[Prepared]]:
    """Prepared chunks in file order, from a process pool when `workers` > 1."""
    if workers <= 1:
        for chunk in reader.chunks():
            yield preparer.prepare(chunk)
        return
    context = multiprocessing.get_context("forkserver" if os.name != "nt" else "spawn")
    with context.Pool(workers, _init_worker, (config, source)) as pool:
        # a bounded window (Pool.imap would read the whole file ahead of a slower writer)
        window: deque[AsyncResult[list[Prepared]]] = deque()
        for chunk in reader.chunks():
            window.append(pool.apply_async(_prepare_in_worker, (chunk,)))
            if len(window) >= 2 * workers:
                yield window.popleft().get()
        while window:
            yield window.popleft().get()


def ingest_file(
    store: Store,
    config: UCPConfig,
    source: str,
    path: Path,
    fmt: str | None = None,
    rejects_path: Path | None = None,
    chunk_size: int = 1000,
    progress: Callable[[int, int], None] | None = None,
    resolve: bool = True,
    secret: bytes | None = None,
    actor: str = "cli",
    workers: int | None = None,
) -> IngestReport:
    """Ingest one file for one source; see the module docstring for the guarantees.

    With `resolve=False` (a bulk initial load) records are stored without profiles until the
    next `resolve_all` (`ucp resolve`), and rows are prepared (mapped, standardized, blocked)
    in `workers` processes (default: one per CPU, up to four, for files of 2 MB or more)
    while this process writes; chunks are still stored in file order, one transaction each.
    """
    started = time.perf_counter()
    reader = FileReader(path, fmt or config.source(source).format, chunk_size)
    ingestor = SourceIngestor(store, config, source, resolve=resolve, secret=secret)
    report = IngestReport(source=source)
    rejects = RejectWriter(rejects_path)
    if workers is None:
        # a pool costs about a second to start: worth it for a bulk load of a large file only
        large = path.stat().st_size >= _POOL_MIN_BYTES
        workers = min(4, os.cpu_count() or 1) if large and not resolve else 1
    try:
        for prepared in _prepared_chunks(reader, config, source, ingestor.preparer, workers):
            ingestor.apply_prepared(prepared, report, rejects)
            if progress:
                progress(reader.position, reader.total)
    finally:
        rejects.close()
    if not resolve and report.inserted + report.updated:
        with store.write() as tx:
            tx.refresh_statistics()  # a bulk load: the planner's view of the tables is stale
    report.seconds = round(time.perf_counter() - started, 3)
    with store.write() as tx:
        audit.record(tx, actor, "ingest.completed", source, details={
            k: getattr(report, k) for k in ("rows", "inserted", "updated", "unchanged",
                                            "rejected", "events_inserted")
        })
    report.rejects_path = str(rejects_path) if rejects_path and report.rejected else None
    return report
