"""The change feed: profile.created/updated/merged/split entries in order, resumable by cursor."""

from __future__ import annotations

from typing import Any

from ucp.errors import InputError
from ucp.store.store import Store


def changes_page(store: Store, after: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    """Entries with `seq > after`, oldest first, and the cursor to resume from."""
    if after < 0:
        raise InputError("after must be 0 or a cursor from a previous page", field="after")
    if not 1 <= limit <= 1000:
        raise InputError("limit must be between 1 and 1000", field="limit")
    with store.read() as tx:
        rows = tx.changes_after(after, limit)
    entries = [
        {
            "seq": r["seq"],
            "type": r["type"],
            "profile_id": r["profile_id"],
            "occurred_at": r["occurred_at"],
            "data": r["data"],
        }
        for r in rows
    ]
    return entries, (entries[-1]["seq"] if entries else after)
