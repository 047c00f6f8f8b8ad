"""Append to, and verify, the hash-chained audit log."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from sqlalchemy import text

from ucp.domain.audit import GENESIS, entry_hash, legacy_entry_hash
from ucp.errors import StoreError
from ucp.store.store import Store, StoreTx, now

log = logging.getLogger("ucp.audit")


def entry(
    actor: str,
    action: str,
    subject: str | None = None,
    request_id: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """One audit entry as `record_many` appends it, timed now."""
    return {
        "occurred_at": now(),
        "actor": actor,
        "action": action,
        "subject": subject,
        "request_id": request_id,
        "details": dict(details or {}),
    }


def record(
    tx: StoreTx,
    actor: str,
    action: str,
    subject: str | None = None,
    request_id: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> None:
    """Append one entry inside the caller's transaction (the chain is serialized)."""
    record_many(tx, [entry(actor, action, subject, request_id, details)])


def record_many(tx: StoreTx, entries: Sequence[Mapping[str, Any]]) -> None:
    """Append entries (each with occurred_at, actor, action, subject, request_id, details)
    in order, chained like `record`, under one lock and one transaction."""
    if not entries:
        return
    if tx.dialect == "postgresql":
        tx.conn.execute(text("SELECT pg_advisory_xact_lock(7301)"))
    prev = tx.last_audit_hash()
    for e in entries:
        body = dict(e["details"] or {})
        fields = (e["occurred_at"], e["actor"], e["action"], e["subject"], e["request_id"])
        digest = entry_hash(prev, *fields, body)
        tx.insert_audit(
            {
                "occurred_at": e["occurred_at"],
                "actor": e["actor"],
                "action": e["action"],
                "subject": e["subject"],
                "request_id": e["request_id"],
                "details": body,
                "prev_hash": prev,
                "hash": digest,
            }
        )
        prev = digest


class AuditBuffer:
    """Audit entries for hot read paths, appended to the chain in batches.

    `add` only queues the entry (its time is taken now); a background thread appends what is
    queued every `interval` seconds, or sooner when `max_entries` wait, in one transaction,
    and `close` appends the rest. A reader is therefore audited within about `interval`
    seconds instead of paying a write transaction (and on PostgreSQL the chain lock) per
    request; a process killed with SIGKILL loses at most the entries of the last `interval`.
    Before `start` (e.g. an app run without its lifespan) entries are written at once.
    """

    def __init__(self, store: Store, interval: float = 0.2, max_entries: int = 1000) -> None:
        self.store = store
        self.interval = interval
        self.max_entries = max_entries
        self._pending: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._write = threading.Lock()
        self._wake = threading.Event()
        self._stop = False
        self._thread: threading.Thread | None = None

    def add(
        self,
        actor: str,
        action: str,
        subject: str | None = None,
        request_id: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        queued = entry(actor, action, subject, request_id, details)
        if self._thread is None:
            with self._write, self.store.write() as tx:
                record_many(tx, [queued])
            return
        with self._lock:
            self._pending.append(queued)
            full = len(self._pending) >= self.max_entries
        if full:
            self._wake.set()

    def flush(self) -> int:
        """Append every queued entry now; returns how many."""
        with self._write:
            with self._lock:
                batch, self._pending = self._pending, []
            if batch:
                try:
                    with self.store.write() as tx:
                        record_many(tx, batch)
                except StoreError:
                    with self._lock:  # keep them, in order, for the next attempt
                        self._pending[:0] = batch
                    raise
        return len(batch)

    def start(self) -> None:
        if self._thread is None:
            self._stop = False
            self._thread = threading.Thread(target=self._run, name="ucp-audit", daemon=True)
            self._thread.start()

    def close(self) -> None:
        """Stop the thread and append what is still queued."""
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stop = True
            self._wake.set()
            thread.join()
        self.flush()

    def _run(self) -> None:
        while not self._stop:
            self._wake.wait(self.interval)
            self._wake.clear()
            try:
                self.flush()
            except StoreError:
                log.exception("audit flush failed; retrying")
                time.sleep(self.interval)


@dataclass(frozen=True, slots=True)
class Verification:
    ok: bool
    entries: int
    first_bad: int | None = None
    reason: str | None = None


def verify(store: Store) -> Verification:
    """Walk the chain; name the first entry whose hash or link does not hold."""
    prev = GENESIS
    n = 0
    with store.read() as tx:
        for row in tx.audit_entries():
            n += 1
            at = row["occurred_at"]
            at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
            if row["prev_hash"] != prev:
                return Verification(False, n, row["id"], "does not follow the entry before it")
            fields = (at, row["actor"], row["action"], row["subject"], row["request_id"])
            expected = entry_hash(prev, *fields, row["details"])
            if (
                expected != row["hash"]
                and legacy_entry_hash(prev, *fields, row["details"]) != row["hash"]
            ):
                return Verification(False, n, row["id"], "content does not match its hash")
            prev = row["hash"]
    return Verification(True, n)
