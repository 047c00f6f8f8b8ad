"""Locks that let several workers apply messages to one PostgreSQL store without lost updates.

Two phases per transaction, each taken in sorted order:

1. *identifier locks* — one advisory lock per identifier value (and record key) a batch touches,
   grown to every linkable value of the connected components those values reach, so two
   workers never re-cluster the same component at once;
2. *profile locks* — one per profile whose traits the batch recomputes, taken after the batch's
   events are written, so the second worker to compute a profile's traits sees the first one's
   committed events.

Growing a lock set can deadlock with another worker (PostgreSQL detects it and aborts one
transaction): `run_with_retry` re-runs the whole batch on deadlock, serialization failure and
unique-key races. On SQLite every writer already holds the database lock (BEGIN IMMEDIATE), so
the locks are no-ops there.
"""

from __future__ import annotations

import hashlib
import logging
import random
import time
from collections.abc import Callable, Iterable
from typing import TypeVar

from ucp.store.store import StoreTx

log = logging.getLogger("ucp.worker")
T = TypeVar("T")

#: deadlock, serialization failure, unique violation (two workers inserting the same key)
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001", "23505"})
_EXPANSION_ROUNDS = 8


def lock_key(*parts: str) -> int:
    """A signed 64-bit advisory lock key for a tuple of strings (stable across processes)."""
    digest = hashlib.blake2b("\x1f".join(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def identifier_keys(pairs: Iterable[tuple[str, str]]) -> set[int]:
    return {lock_key("id", typ, value) for typ, value in pairs}


def lock_identifiers(
    tx: StoreTx, pairs: Iterable[tuple[str, str]], record_keys: Iterable[tuple[str, str]],
    expand: Iterable[tuple[str, str]] = (),
) -> None:
    """Phase 1: lock identifier values and record keys; grow through the components of `expand`
    (the values that will be re-clustered) until no new value appears."""
    if tx.dialect != "postgresql":
        return
    seeds = set(pairs) | set(expand)
    held = identifier_keys(seeds) | {lock_key("rec", s, k) for s, k in record_keys}
    tx.advisory_lock(held)
    frontier = set(expand)
    seen_values = set(frontier)
    for _ in range(_EXPANSION_ROUNDS):
        if not frontier:
            return
        records = tx.records_holding(frontier)
        if not records:
            return
        values = tx.linkable_values(tx.component(records))
        fresh = values - seen_values
        if not fresh:
            return
        seen_values |= fresh
        keys = identifier_keys(fresh) - held
        tx.advisory_lock(keys)
        held |= keys
        frontier = fresh


def lock_profiles(tx: StoreTx, profile_ids: Iterable[str]) -> None:
    """Phase 2: lock the profiles whose traits this transaction recomputes."""
    if tx.dialect == "postgresql":
        tx.advisory_lock(lock_key("profile", pid) for pid in profile_ids)


def is_retryable(exc: BaseException) -> bool:
    """Whether a failed transaction may simply be run again (a race, not a bug)."""
    seen: set[int] = set()
    node: BaseException | None = exc
    while node is not None and id(node) not in seen:
        seen.add(id(node))
        state = getattr(node, "sqlstate", None) or getattr(getattr(node, "orig", None),
                                                           "sqlstate", None)
        if state in RETRYABLE_SQLSTATES:
            return True
        node = node.__cause__ or node.__context__
    return False


def run_with_retry(fn: Callable[[], T], attempts: int = 10, base_delay: float = 0.01) -> T:
    """Run `fn` (one whole transaction), again after a retryable failure, with jittered backoff."""
    for attempt in range(attempts):
        try:
            return fn()
        except Exception as exc:
            if attempt == attempts - 1 or not is_retryable(exc):
                raise
            log.info("transaction raced another worker; retrying (attempt %d)", attempt + 2)
            time.sleep(base_delay * (2**attempt) * (0.5 + random.random()))
    raise AssertionError("unreachable")
