"""Append to, and verify, the hash-chained audit log."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from sqlalchemy import text

from ucp.domain.audit import GENESIS, entry_hash, legacy_entry_hash
from ucp.store.store import Store, StoreTx, now


def record(
    tx: StoreTx,
    actor: str,
    action: str,
    subject: str | None = None,
    request_id: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> None:
    """Append one entry inside the caller's transaction (the chain is serialized)."""
    if tx.dialect == "postgresql":
        tx.conn.execute(text("SELECT pg_advisory_xact_lock(7301)"))
    at = now()
    prev = tx.last_audit_hash()
    body = dict(details or {})
    tx.insert_audit(
        {
            "occurred_at": at,
            "actor": actor,
            "action": action,
            "subject": subject,
            "request_id": request_id,
            "details": body,
            "prev_hash": prev,
            "hash": entry_hash(prev, at, actor, action, subject, request_id, body),
        }
    )


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
            if expected != row["hash"] and legacy_entry_hash(
                prev, *fields, row["details"]
            ) != row["hash"]:
                return Verification(False, n, row["id"], "content does not match its hash")
            prev = row["hash"]
    return Verification(True, n)
