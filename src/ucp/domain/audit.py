"""The audit chain: each entry carries the hash of the one before (pure)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import orjson

GENESIS = "0" * 64


def entry_hash(
    prev_hash: str,
    occurred_at: datetime,
    actor: str,
    action: str,
    subject: str | None,
    request_id: str | None,
    details: Mapping[str, Any],
) -> str:
    """SHA-256 over the previous hash and the entry's canonical JSON."""
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
