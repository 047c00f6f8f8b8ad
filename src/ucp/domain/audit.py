"""The audit chain: each entry carries the hash of the one before (pure).

An entry's hash binds the previous hash, time, actor, action and request id directly, and the
subject and each `details` field through their own SHA-256 digest. Erasure can therefore replace
a personal value by a *tombstone* that keeps only that digest (`{"$erased": digest}` in details,
`"$erased:" + digest` as subject): the fact and time of the action stay, the value goes, and the
chain still verifies. Any other edit, a deletion or a reordering breaks it.

Entries written before digests were introduced (legacy) hash the whole content at once; the
verifier accepts them as they are, but they cannot be tombstoned.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import orjson

GENESIS = "0" * 64
TOMBSTONE_KEY = "$erased"
SUBJECT_TOMBSTONE = "$erased:"


def digest(value: Any) -> str:
    """SHA-256 of a value's canonical JSON."""
    return hashlib.sha256(orjson.dumps(value, option=orjson.OPT_SORT_KEYS)).hexdigest()


def is_tombstone(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {TOMBSTONE_KEY}


def tombstone(value: Any) -> dict[str, str]:
    """What replaces an erased details value: its digest only (idempotent)."""
    if is_tombstone(value):
        return dict(value)
    return {TOMBSTONE_KEY: digest(value)}


def tombstone_subject(subject: str | None) -> str | None:
    if subject is None or subject.startswith(SUBJECT_TOMBSTONE):
        return subject
    return SUBJECT_TOMBSTONE + digest(subject)


def _subject_digest(subject: str | None) -> str:
    if subject is not None and subject.startswith(SUBJECT_TOMBSTONE):
        return subject[len(SUBJECT_TOMBSTONE) :]
    return digest(subject)


def _details_digests(details: Mapping[str, Any]) -> dict[str, str]:
    return {k: (v[TOMBSTONE_KEY] if is_tombstone(v) else digest(v)) for k, v in details.items()}


def entry_hash(
    prev_hash: str,
    occurred_at: datetime,
    actor: str,
    action: str,
    subject: str | None,
    request_id: str | None,
    details: Mapping[str, Any],
) -> str:
    """SHA-256 over the previous hash, the entry's fields and the digests of subject and details.

    Example: `entry_hash(GENESIS, at, "cli:ann", "key.created", "k_1", None, {"role": "admin"})`.
    """
    body = orjson.dumps(
        {
            "v": 2,
            "prev": prev_hash,
            "at": occurred_at.isoformat(),
            "actor": actor,
            "action": action,
            "subject": _subject_digest(subject),
            "request_id": request_id,
            "details": _details_digests(details),
        },
        option=orjson.OPT_SORT_KEYS,
    )
    return hashlib.sha256(body).hexdigest()


def legacy_entry_hash(
    prev_hash: str,
    occurred_at: datetime,
    actor: str,
    action: str,
    subject: str | None,
    request_id: str | None,
    details: Mapping[str, Any],
) -> str:
    """The hash of entries written before field digests (kept so old chains still verify)."""
    body = orjson.dumps(
        {
            "prev": prev_hash,
            "at": occurred_at.isoformat(),
            "actor": actor,
            "action": action,
            "subject": subject,
            "request_id": request_id,
            "details": details,
        },
        option=orjson.OPT_SORT_KEYS,
    )
    return hashlib.sha256(body).hexdigest()
