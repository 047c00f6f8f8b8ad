"""Applying collected Segment messages to the store, and the workers that do it.

One batch of messages = one transaction: records (identify, alias and the stub records that give
anonymous visitors a profile) go through `SourceIngestor` and incremental resolution, events are
prepared and appended in bulk, group memberships upserted, the traits of the profiles the batch
reaches updated (new events folded into the stored trait state; profiles whose records changed
recomputed — `services.traits`), and the inbox rows marked — so a crash anywhere leaves either
the whole batch applied or none of it, and a redelivered message is recognised by its inbox row
and applied once.

- identify → a record keyed by the source's `source_key` path (an identify without a value there
  is keyed `anonymous:<anonymousId>`); Segment semantics: its traits are merged over the traits of
  the record's previous version.
- track / page / screen → an event keyed by `messageId`; when its `userId`/`anonymousId` is held by
  no record yet, a stub record `user:<id>` / `anonymous:<id>` carrying only those identifiers
  gives it a profile, which merges with the person when an identify carries the same ids.
- alias → a stub record `alias:<previousId>` carrying userId and previousId (as anonymous id; and,
  when previousId is a known user id, a second stub that joins the two).
- group → a `group_memberships` row (person identifier ↔ account).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import select
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from ucp.config import SourceConfig, UCPConfig
from ucp.domain.mapping import lookup
from ucp.domain.traits import EventFacts
from ucp.services import suppression
from ucp.services.consent import IngestConsent
from ucp.services.identifiers import IdentifierStandardizer
from ucp.services.ingest import IngestReport, RejectWriter, RowPreparer, SourceIngestor
from ucp.services.locking import lock_identifiers, run_with_retry
from ucp.services.traits import TraitComputer, event_facts
from ucp.store.store import Store, StoreTx, now

log = logging.getLogger("ucp.worker")

_EVENT_TYPES = ("track", "page", "screen")
_STUB_KEY = "__ucp_stub_key"


@dataclass(frozen=True, slots=True)
class Message:
    """One logged message: where it came from and what it says."""

    source: str
    message_id: str
    type: str
    payload: dict[str, Any]
    received_at: datetime
    inbox_id: int | None = None


@dataclass(slots=True)
class ApplyResult:
    applied: int = 0
    duplicates: int = 0
    failed: dict[str, str] = field(default_factory=dict)  # message_id -> reason
    profiles: int = 0


class _TxStore:
    """A stand-in Store whose `write()` yields the worker's open transaction, so that
    `SourceIngestor` stores its chunk inside the batch transaction."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.dialect = store.dialect
        self.tx: StoreTx | None = None

    @contextmanager
    def write(self) -> Iterator[StoreTx]:
        if self.tx is None:
            with self._store.write() as tx:
                yield tx
        else:
            yield self.tx

    read = write


class _Rejects(RejectWriter):
    """Collects the ingestor's rejections by row number instead of writing a file."""

    def __init__(self) -> None:
        super().__init__(None)
        self.rows: dict[int, str] = {}

    def write(self, row: int, source_key: str | None, field_name: str | None, reason: str) -> None:
        self.rows[row] = f"{field_name}: {reason}" if field_name else reason


def _variant(config: UCPConfig, source: str, **changes: Any) -> UCPConfig:
    """The config with one source's settings changed (keys for events and stub records)."""
    sources = dict(config.sources)
    sources[source] = sources[source].model_copy(update=changes)
    return config.model_copy(update={"sources": sources})


def _id_paths(source: SourceConfig) -> tuple[str | None, str | None]:
    """The identifier types mapped from `userId` and `anonymousId` for this source."""
    by_path = {path: typ for typ, path in source.identifiers.items()}
    return by_path.get("userId"), by_path.get("anonymousId")


class _SourceApplier:
    """One source's appliers: records and stub records go through `SourceIngestor` (mapping,
    standardization, versions, resolution); events only need preparing and inserting, so they
    take a short path of their own (`store_events`)."""

    def __init__(
        self, proxy: _TxStore, config: UCPConfig, name: str, secret: bytes | None = None
    ) -> None:
        self.name = name
        self.source = config.source(name)
        self.secret = secret
        self.user_type, self.anon_type = _id_paths(self.source)
        store = cast(Store, proxy)
        self.records = SourceIngestor(store, config, name, secret=secret)
        event_config = _variant(config, name, source_key="messageId")
        self.events = RowPreparer(event_config, name)
        self.consent = IngestConsent(event_config, name)
        stub_ids = {t: p for t, p in self.source.identifiers.items()
                    if t in (self.user_type, self.anon_type)}
        self.stubs = SourceIngestor(
            store, _variant(config, name, source_key=_STUB_KEY, mapping={}, identifiers=stub_ids),
            name,
            secret=secret,
        )
        self.standardizer = IdentifierStandardizer(config)

    def ids_of(self, payload: dict[str, Any]) -> list[tuple[str, str]]:
        """The standardized `(type, value)` pairs of a message's userId / anonymousId."""
        out = []
        for typ, path in ((self.user_type, "userId"), (self.anon_type, "anonymousId")):
            value = payload.get(path)
            if typ and value not in (None, ""):
                ident = self.standardizer.identifier(typ, value, self.source.default_country)
                if ident:
                    out.append((ident[0], ident[1]))
        return out

    def mapped_ids(self, payload: dict[str, Any]) -> list[tuple[str, str]]:
        out = []
        for typ, path in self.source.identifiers.items():
            value = lookup(payload, path)
            if value not in (None, "") and not isinstance(value, (dict, list)):
                ident = self.standardizer.identifier(typ, value, self.source.default_country)
                if ident:
                    out.append((ident[0], ident[1]))
        return out

    def stub_row(self, key: str, user_id: str | None, anon_id: str | None) -> dict[str, Any]:
        row: dict[str, Any] = {"type": "identify", _STUB_KEY: key}
        if user_id is not None:
            row["userId"] = user_id
        if anon_id is not None:
            row["anonymousId"] = anon_id
        return row

    def store_events(
        self, tx: StoreTx, msgs: Sequence[Message], result: ApplyResult, at: datetime
    ) -> list[tuple[dict[str, Any], list[tuple[str, str]]]]:
        """Prepare and insert the events of track/page/screen messages (the collector's receive
        time kept); returns the rows that were new, with their identifiers. A message the
        mapping refuses is recorded in `result.failed`; a known event key is skipped."""
        events: dict[str, tuple[dict[str, Any], list[tuple[str, str]]]] = {}
        for item in self.events.prepare(enumerate(m.payload for m in msgs)):
            m = msgs[item.row]
            if item.kind == "error":
                reason = item.reason or ""
                result.failed[m.message_id] = f"{item.field}: {reason}" if item.field else reason
            elif item.kind == "event" and item.key is not None:
                row, idents = item.payload
                row["received_at"] = m.received_at
                events[item.key] = (row, idents)
        suppression.drop_suppressed(tx, self.secret, {}, events)
        if not events:
            return []
        known = tx.known_event_keys(self.name, list(events))
        fresh = [events[k] for k in events if k not in known]
        tx.append_events([r for r, _ in fresh], [i for _, i in fresh])
        self.consent.record(tx, [], fresh, at)
        return fresh


def _merge_identify(previous: dict[str, Any] | None, msg: dict[str, Any]) -> dict[str, Any]:
    """Segment identify semantics: new traits are merged over the ones the record had."""
    if not previous:
        return msg
    traits = {**(previous.get("traits") or {}), **(msg.get("traits") or {})}
    merged = {**previous, **msg}
    if traits:
        merged["traits"] = traits
    return merged


class MessageApplier:
    """Applies batches of messages to the store (one transaction per batch)."""

    def __init__(self, store: Store, config: UCPConfig, secret: bytes | None = None) -> None:
        self.store = store
        self.config = config
        self.secret = secret
        self.proxy = _TxStore(store)
        self.traits = TraitComputer(config)
        self._sources: dict[str, _SourceApplier] = {}

    def _source(self, name: str) -> _SourceApplier:
        if name not in self._sources:
            self._sources[name] = _SourceApplier(self.proxy, self.config, name, self.secret)
        return self._sources[name]

    # -- the public entry points ---------------------------------------------------------------
    def apply_pending(self, limit: int) -> ApplyResult:
        """Embedded mode: claim the oldest pending inbox rows and apply them; retried on races."""
        return self._guarded(lambda tx: [_from_inbox(r) for r in tx.inbox_claim(limit)], None)

    def apply_messages(self, messages: Sequence[Message]) -> ApplyResult:
        """Bus mode: log the messages in the inbox (a known messageId is a duplicate) and apply
        the new ones, in one transaction."""
        return self._guarded(lambda tx: self._log(tx, messages), messages)

    # -- internals ------------------------------------------------------------------------
    def _log(self, tx: StoreTx, messages: Sequence[Message]) -> list[Message]:
        rows = sorted(
            {(m.source, m.message_id): m for m in messages}.values(),
            key=lambda m: (m.source, m.message_id),
        )
        new = tx.inbox_insert([
            {"source": m.source, "message_id": m.message_id, "type": m.type,
             "payload": m.payload, "received_at": m.received_at,
             "status": "applied", "applied_at": now()}
            for m in rows
        ])
        fresh = [m for m in messages if m.message_id in new]
        seen: set[tuple[str, str]] = set()
        out = []
        for m in fresh:  # keep arrival order, drop in-batch repeats
            if (m.source, m.message_id) not in seen:
                seen.add((m.source, m.message_id))
                out.append(m)
        return out

    def _guarded(self, load: Any, offered: Sequence[Message] | None) -> ApplyResult:
        def attempt() -> ApplyResult:
            with self.store.write() as tx:
                batch = load(tx)
                result = self._apply(tx, batch)
                if offered is not None:
                    result.duplicates = len(offered) - len(batch)
                return result

        try:
            return run_with_retry(attempt)
        except Exception as exc:  # noqa: BLE001 - isolate the message that breaks the batch
            log.warning("batch failed (%s); applying its messages one by one", type(exc).__name__)
            return self._one_by_one(load, offered)

    def _one_by_one(self, load: Any, offered: Sequence[Message] | None) -> ApplyResult:
        with self.store.read() as tx:
            batch = offered if offered is not None else load(tx)
        total = ApplyResult()
        for msg in batch:
            def single(m: Message = msg) -> ApplyResult:
                with self.store.write() as tx:
                    chosen = self._log(tx, [m]) if offered is not None else [m]
                    return self._apply(tx, chosen)

            try:
                r = run_with_retry(single)
                total.applied += r.applied
                total.failed.update(r.failed)
                total.profiles += r.profiles
            except Exception as exc:  # noqa: BLE001 - recorded, never re-raised: poison message
                reason = f"apply error: {type(exc).__name__}"
                total.failed[msg.message_id] = reason
                self._record_failure(msg, reason)
        return total

    def _record_failure(self, msg: Message, reason: str) -> None:
        with self.store.write() as tx:
            if msg.inbox_id is None:
                tx.inbox_insert([{"source": msg.source, "message_id": msg.message_id,
                                  "type": msg.type, "payload": msg.payload,
                                  "received_at": msg.received_at, "status": "failed",
                                  "applied_at": now(), "error": reason}])
            else:
                tx.inbox_finish([], {msg.inbox_id: reason}, now())

    def _apply(self, tx: StoreTx, batch: Sequence[Message]) -> ApplyResult:
        result = ApplyResult()
        if not batch:
            return result
        at = now()
        self.proxy.tx = tx
        try:
            seq = tx.last_change_seq()
            record_pairs: set[tuple[str, str]] = set()
            fresh: list[tuple[dict[str, Any], list[tuple[str, str]]]] = []
            cache: dict[tuple[str, str], set[str]] = {}
            by_source: dict[str, list[Message]] = {}
            for m in batch:
                by_source.setdefault(m.source, []).append(m)
            for name, msgs in sorted(by_source.items()):
                record_pairs |= self._apply_source(
                    tx, self._source(name), msgs, result, at, fresh, cache
                )
            result.profiles = self._update_traits(tx, seq, record_pairs, fresh, cache, at)
            failed_ids = {m.inbox_id: result.failed[m.message_id]
                          for m in batch if m.message_id in result.failed and m.inbox_id}
            applied_ids = [m.inbox_id for m in batch
                           if m.inbox_id is not None and m.message_id not in result.failed]
            tx.inbox_finish(applied_ids, failed_ids, at)
            failed_logged = [(m.source, m.message_id, r) for m in batch
                             if m.inbox_id is None and (r := result.failed.get(m.message_id))]
            if failed_logged:
                tx.inbox_fail_messages(failed_logged, at)
            result.applied = len(batch) - len(result.failed)
            return result
        finally:
            self.proxy.tx = None

    def _update_traits(
        self, tx: StoreTx, seq: int, record_pairs: set[tuple[str, str]],
        fresh: list[tuple[dict[str, Any], list[tuple[str, str]]]],
        cache: dict[tuple[str, str], set[str]], at: datetime,
    ) -> int:
        """Recompute the profiles whose records changed (the change feed entries this batch
        wrote, and the holders of the identifiers its identify/alias messages carry); fold the
        new events into every other profile they reach."""
        if not self.traits.enabled:
            return 0
        changed: set[str] = set()
        for _type, pid, data in tx.changes_since(seq):
            changed.update(p for p in (pid, data.get("from")) if isinstance(p, str))
            into = data.get("into")
            changed.update(into if isinstance(into, list) else [into] if into else [])
        if record_pairs:
            changed.update(p for ps in tx.profiles_holding(record_pairs).values() for p in ps)
        pairs = {pair for _, idents in fresh for pair in idents}
        if changed or record_pairs or any(not cache.get(p) for p in pairs):
            # records were written in this batch: the lookups made before may be stale
            cache.update(dict.fromkeys(pairs, set()))
            cache.update(tx.profiles_holding(pairs))
        fold: dict[str, list[EventFacts]] = {}
        for row, idents in fresh:
            owners = set().union(*(cache.get(pair, set()) for pair in idents))
            if owners - changed:
                facts = event_facts(row)
                for pid in owners - changed:
                    fold.setdefault(pid, []).append(facts)
        return self.traits.update(tx, changed, fold, at)

    def _apply_source(
        self, tx: StoreTx, src: _SourceApplier, msgs: list[Message], result: ApplyResult,
        at: datetime, fresh: list[tuple[dict[str, Any], list[tuple[str, str]]]],
        cache: dict[tuple[str, str], set[str]],
    ) -> set[tuple[str, str]]:
        """Apply one source's messages; appends the new events to `fresh` and returns the
        identifier pairs of the records (identify, alias) it wrote, whose profiles' traits are
        recomputed. `cache` keeps the identifier → profiles lookups of the batch."""
        records: dict[str, tuple[dict[str, Any], list[Message]]] = {}
        stubs: dict[str, tuple[dict[str, Any], list[Message]]] = {}
        events: list[Message] = []
        groups: list[Message] = []
        pairs: set[tuple[str, str]] = set()
        record_pairs: set[tuple[str, str]] = set()
        expand: set[tuple[str, str]] = set()
        record_keys: set[tuple[str, str]] = set()
        key_path = src.source.source_key
        ids_of: dict[int, list[tuple[str, str]]] = {}  # by message object: read once
        for m in msgs:
            p = m.payload
            ids = ids_of[id(m)] = src.ids_of(p)
            pairs.update(ids)
            if m.type == "identify":
                row = dict(p)
                key = lookup(row, key_path)
                if key in (None, "") and p.get("anonymousId"):
                    row[key_path] = f"anonymous:{p['anonymousId']}"
                    key = row[key_path]
                skey = str(key) if key not in (None, "") else f"missing:{m.message_id}"
                prev = records.get(skey)
                merged = _merge_identify(prev[0] if prev else None, row)
                records[skey] = (merged, [*(prev[1] if prev else []), m])
                mapped = src.mapped_ids(row)
                expand.update(mapped)
                record_pairs.update(mapped)
                record_pairs.update(ids)
                record_keys.add((src.name, skey))
            elif m.type in _EVENT_TYPES:
                events.append(m)
            elif m.type == "alias":
                prev_id, user_id = str(p["previousId"]), str(p["userId"])
                key = f"alias:{prev_id}"
                stubs[key] = (src.stub_row(key, user_id, prev_id), [m])
                alias_ids = src.ids_of({"userId": user_id, "anonymousId": prev_id})
                expand.update(alias_ids)
                record_pairs.update(alias_ids)
                record_keys.add((src.name, key))
            elif m.type == "group":
                groups.append(m)
        expand |= {pair for pair in pairs if records or stubs}
        # event ids held by no record yet get a stub record so the visitor has a profile
        event_ids = {m.message_id: ids_of[id(m)] for m in events}
        wanted = {pair for ids in event_ids.values() for pair in ids}
        lock_identifiers(tx, pairs | wanted, record_keys, expand)
        if wanted:
            cache.update(dict.fromkeys(wanted, set()))
            cache.update(tx.profiles_holding(wanted))
        known = {pair for pair in wanted if cache[pair]} | expand
        for m in events:
            ids = event_ids[m.message_id]
            if not ids or all(pair in known for pair in ids):
                continue
            uid, anon = m.payload.get("userId"), m.payload.get("anonymousId")
            key = f"anonymous:{anon}" if anon else f"user:{uid}"
            prev = stubs.get(key)
            if prev is not None:
                uid = uid or prev[0].get("userId")
            stubs[key] = (src.stub_row(key, uid, anon), [*(prev[1] if prev else []), m])
            known.update(ids)
        if stubs:
            expand_stub = {pair for row, _ in stubs.values() for pair in src.ids_of(row)}
            lock_identifiers(tx, (), {(src.name, k) for k in stubs}, expand_stub)
        self._alias_known_user(tx, src, stubs)
        if records:
            previous = tx.current_raw(src.name, list(records))
            rows = []
            for key, (row, carried) in records.items():
                rows.append((key, _merge_identify(previous.get(key), row), carried))
            self._ingest(src.records, rows, result)
        if stubs:
            self._ingest(src.stubs, [(k, r, c) for k, (r, c) in stubs.items()], result)
        if events:
            fresh.extend(src.store_events(tx, events, result, at))
        if groups:
            self._groups(tx, src, groups, at)
        return record_pairs

    def _alias_known_user(
        self, tx: StoreTx, src: _SourceApplier,
        stubs: dict[str, tuple[dict[str, Any], list[Message]]],
    ) -> None:
        """An alias whose previousId is a known *user* id joins the two users through a second
        stub that carries the old user id and the same glue value."""
        if not src.user_type:
            return
        for key in [k for k in stubs if k.startswith("alias:")]:
            row, carried = stubs[key]
            prev_id = row.get("anonymousId")
            ident = src.ids_of({"userId": prev_id})
            if ident and tx.profiles_holding(ident):
                glue = f"alias-user:{prev_id}"
                stubs[glue] = (src.stub_row(glue, prev_id, prev_id), carried)

    def _ingest(
        self, ingestor: SourceIngestor,
        rows: list[tuple[str, dict[str, Any], list[Message]]], result: ApplyResult,
    ) -> None:
        rejects = _Rejects()
        ingestor._seen_keys.clear()  # each batch is a fresh "file": a key may come again later
        ingestor.ingest_chunk(
            [(n, row) for n, (_, row, _) in enumerate(rows)], IngestReport(ingestor.name), rejects
        )
        for n, reason in rejects.rows.items():
            for m in rows[n][2]:
                result.failed[m.message_id] = reason

    def _groups(self, tx: StoreTx, src: _SourceApplier, msgs: list[Message], at: datetime) -> None:
        rows: dict[tuple[str, str, str], dict[str, Any]] = {}
        for m in msgs:
            ids = src.ids_of(m.payload)
            if not ids:
                continue
            typ, value = ids[0]
            rows[(str(m.payload["groupId"]), typ, value)] = {
                "source": src.name, "group_id": str(m.payload["groupId"]),
                "identifier_type": typ, "identifier_value": value,
                "traits": m.payload.get("traits") or {}, "updated_at": at,
            }
        tx.upsert_group_memberships([rows[k] for k in sorted(rows)])


def _from_inbox(row: dict[str, Any]) -> Message:
    received = row["received_at"]
    if isinstance(received, datetime) and received.tzinfo is None:
        received = received.replace(tzinfo=UTC)
    return Message(row["source"], row["message_id"], row["type"], row["payload"], received,
                   row["id"])


def message_from_payload(source: str, payload: dict[str, Any]) -> Message:
    """A Message from a normalized collector payload (see connectors.collector)."""
    received = datetime.fromisoformat(str(payload["receivedAt"]).replace("Z", "+00:00"))
    return Message(source, str(payload["messageId"]), str(payload["type"]), payload, received)


RETENTION_EVERY = 24 * 3600.0
MAX_BATCH_GROWTH = 4


class InboxWorker:
    """The embedded worker: a background thread draining pending inbox rows in order.

    `notify()` (called by the collector after a commit) wakes it at once; otherwise it polls.
    """

    def __init__(
        self, store: Store, config: UCPConfig, batch_size: int = 500, poll_interval: float = 0.05,
        secret: bytes | None = None, retention_every: float | None = RETENTION_EVERY,
    ) -> None:
        self.applier = MessageApplier(store, config, secret)
        self.config = config
        self.retention_every = retention_every
        self._retention_due = time.monotonic()
        self.store = store
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.applied = 0

    def notify(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="ucp-inbox-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def drain(self) -> int:
        """Apply pending rows until none is left; returns how many were applied or failed.

        While a backlog lasts (each claim comes back full) the claims grow, up to
        `MAX_BATCH_GROWTH` × `batch_size`: a profile with several events in one batch is read
        and written once, so a backlog clears faster than it built up.
        """
        total, size = 0, self.batch_size
        while True:
            result = self.applier.apply_pending(size)
            n = result.applied + len(result.failed)
            total += n
            if n < size:  # the claim took every pending row: no empty write transaction more
                return total
            size = min(size * 2, self.batch_size * MAX_BATCH_GROWTH)

    def _pending(self) -> bool:
        with self.store.read() as tx:
            return tx.inbox_has_pending()

    def _retention(self) -> None:
        """Apply the retention periods once a day (the first time at start)."""
        if self.retention_every is None or time.monotonic() < self._retention_due:
            return
        self._retention_due = time.monotonic() + self.retention_every
        from ucp.services.retention import apply_retention

        apply_retention(self.store, self.config)

    def _run(self) -> None:
        self.run_until(self._stop.is_set, self._wake)

    def run_until(self, should_stop: Callable[[], bool], wake: Any) -> None:
        """Drain whenever rows are pending; otherwise wait on `wake` (a `threading.Event`, or
        the pipe of a `WorkerProcess`), polling at `poll_interval`, backing off to 0.25 s when
        idle."""
        idle = self.poll_interval
        while not should_stop():
            try:
                self._retention()
                if self._pending():
                    self.applied += self.drain()
                    idle = self.poll_interval
                    continue
            except Exception as exc:  # noqa: BLE001 - keep the worker alive; the row stays pending
                log.error("inbox worker error: %s", type(exc).__name__)
                time.sleep(1.0)
            wake.wait(idle)
            wake.clear()
            idle = min(idle * 2, 0.25)


class WorkerProcess:
    """The embedded worker in a child process of the server: the same `InboxWorker` loop, with
    an interpreter (and a core) of its own, so applying never competes with HTTP for one GIL.

    The child opens the store by URL (a file or PostgreSQL database both processes reach). A
    pipe connects them: `notify()` writes a byte to wake the child at once (never blocking:
    a full pipe already means "wake up"); closing it — `stop()`, or the kernel when the server
    process dies, even by SIGKILL — tells the child to finish its batch and exit, so a
    restarted server never finds an orphan draining beside its own. (A multiprocessing Event
    would not do: its `set()` waits for every process that waited on it, a dead one included.)
    """

    #: a child that died (a crash, the OOM killer) is started again, at most this often
    RESTART_EVERY = 5.0

    def __init__(
        self, database_url: str, config: UCPConfig, batch_size: int = 500,
        poll_interval: float = 0.05, secret: bytes | None = None,
    ) -> None:
        self._ctx = multiprocessing.get_context("spawn")  # never fork a threaded server
        self._args = (database_url, config, batch_size, poll_interval, secret)
        self._proc: Any = None
        self._pipe: Any = None
        self._fd = -1
        self._guard = threading.Lock()
        self._stopped = False
        self._checked = 0.0
        self.restarts = 0

    def notify(self) -> None:
        with self._guard:  # the pipe is closed under the same lock: never a reused fd
            if self._fd < 0:
                return
            try:
                os.write(self._fd, b"\0")
            except BlockingIOError:
                pass  # a full pipe: the child is awake with bytes to read
            except OSError:  # a broken pipe: the child is gone
                self._checked = 0.0
        if time.monotonic() - self._checked > self.RESTART_EVERY:
            self._supervise()

    def _supervise(self) -> None:
        with self._guard:
            self._checked = time.monotonic()
            if self._stopped or self._proc is None or self._proc.is_alive():
                return
            log.error("embedded worker process exited (code %s); starting it again",
                      self._proc.exitcode)
            self._close_pipe()
            self.restarts += 1
            self._spawn()

    def start(self) -> None:
        with self._guard:
            self._stopped = False
            self._spawn()
            self._checked = time.monotonic()

    def _spawn(self) -> None:
        reader, writer = self._ctx.Pipe(duplex=False)
        self._proc = self._ctx.Process(
            target=_worker_process_main, name="ucp-inbox-worker", daemon=True,
            args=(*self._args, reader),
        )
        self._proc.start()
        reader.close()
        os.set_blocking(writer.fileno(), False)
        self._pipe, self._fd = writer, writer.fileno()

    def _close_pipe(self) -> None:
        if self._pipe is not None:
            self._fd = -1
            self._pipe.close()  # EOF: the child finishes its batch and exits
            self._pipe = None

    def alive(self) -> bool:
        return self._proc is not None and self._proc.is_alive()

    def stop(self, timeout: float = 10.0) -> None:
        with self._guard:
            self._stopped = True
            self._close_pipe()
            if self._proc is not None:
                self._proc.join(timeout)
                if self._proc.is_alive():
                    self._proc.kill()
                    self._proc.join(5)


class _PipeWake:
    """`InboxWorker.run_until`'s wake-up for the child: readable pipe = wake, EOF = stop."""

    def __init__(self, reader: Any) -> None:
        self.fd = reader.fileno()
        self.closed = False

    def wait(self, timeout: float) -> None:
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if ready and os.read(self.fd, 65536) == b"":
            self.closed = True

    def stopping(self) -> bool:
        """Checked between batches too: a backlog must not keep an orphan alive."""
        if not self.closed:
            self.wait(0)
        return self.closed

    def clear(self) -> None:
        pass  # `wait` consumed the bytes


def _worker_process_main(
    database_url: str, config: UCPConfig, batch_size: int, poll_interval: float,
    secret: bytes | None, reader: Any,
) -> None:
    """Body of the `WorkerProcess` child."""
    # signals go to the server, which closes the pipe: the batch in hand is finished first
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    wake = _PipeWake(reader)
    store = Store.open(database_url, upgrade=False)
    try:
        worker = InboxWorker(store, config, batch_size, poll_interval, secret=secret)
        worker.run_until(wake.stopping, wake)
    finally:
        store.close()


async def run_bus_worker(
    store: Store,
    config: UCPConfig,
    bus: Any,
    durable: str = "ucp-workers",
    batch_size: int = 500,
    stop: Any = None,
    idle_exit: float | None = None,
    secret: bytes | None = None,
) -> int:
    """Consume the bus (a `connectors.nats_bus.NatsLog`) with a durable pull consumer until
    `stop` (an asyncio.Event) is set, or after `idle_exit` seconds without a message.

    Each fetched batch is applied in one transaction, then acknowledged: a crash in between
    redelivers it, and the inbox recognises the messages already applied.
    """
    import asyncio

    applier = MessageApplier(store, config, secret)
    await bus.subscribe(durable)
    total, idle_since = 0, time.monotonic()
    while stop is None or not stop.is_set():
        fetched = await bus.fetch(batch_size, timeout=0.5)
        if not fetched:
            if idle_exit is not None and time.monotonic() - idle_since > idle_exit:
                break
            continue
        idle_since = time.monotonic()
        try:
            messages = [message_from_payload(m.source, m.payload) for m in fetched]
            await asyncio.to_thread(applier.apply_messages, messages)
            await bus.ack(fetched)
        except Exception as exc:  # noqa: BLE001 - stay alive: unacked messages are redelivered
            log.error("bus worker error: %s; the batch will be redelivered", type(exc).__name__)
            await asyncio.sleep(1.0)
            continue
        total += len(fetched)
    return total
