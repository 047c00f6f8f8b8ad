"""API keys: made once, shown once, stored only as SHA-256 hashes."""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ucp.domain.access import Role
from ucp.errors import AuthError, InputError, NotFound
from ucp.services import audit
from ucp.store.store import Store, now

_PREFIX = "ucp_"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: str
    name: str
    role: Role
    expires_at: datetime | None = None


def create_key(
    store: Store, role: str, name: str = "", actor: str = "cli", ttl_days: int | None = None
) -> tuple[ApiKey, str]:
    """Make a key; returns its public record and the secret (shown once, never stored)."""
    try:
        parsed = Role(role)
    except ValueError:
        roles = ", ".join(r.value for r in Role)
        raise InputError(f"unknown role {role!r}; use one of {roles}", field="role") from None
    key_id = f"k_{secrets.token_hex(6)}"
    secret = f"{_PREFIX}{secrets.token_urlsafe(32)}"
    at = now()
    expires = at + timedelta(days=ttl_days) if ttl_days else None
    with store.write() as tx:
        tx.insert_api_key(
            {
                "id": key_id,
                "name": name or key_id,
                "role": parsed.value,
                "key_hash": hash_key(secret),
                "created_at": at,
                "expires_at": expires,
                "revoked_at": None,
            }
        )
        audit.record(tx, actor, "key.created", key_id, details={"role": parsed.value})
    return ApiKey(key_id, name or key_id, parsed, expires), secret


def authenticate(store: Store, secret: str) -> ApiKey:
    """The key behind a bearer secret; AuthError when unknown, revoked or expired."""
    with store.read() as tx:
        row = tx.api_key_by_hash(hash_key(secret))
    if row is None:
        raise AuthError("unknown API key")
    if row["revoked_at"] is not None:
        raise AuthError("this API key was revoked")
    expires = row["expires_at"]
    if expires is not None:
        if expires.tzinfo is None:
            expires = expires.replace(tzinfo=UTC)
        if expires <= now():
            raise AuthError("this API key has expired")
    return ApiKey(row["id"], row["name"], Role(row["role"]), expires)


class KeyCache:
    """`authenticate` for a busy server: a key found valid is trusted for `ttl` seconds.

    Saves a database read per request. A revocation therefore reaches a running server within
    `ttl` seconds (per worker process); expiry is checked on every request. Unknown secrets
    are never cached (so guessing cannot fill memory), and the cache holds at most
    `max_entries` keys.
    """

    def __init__(
        self,
        store: Store,
        ttl: float = 2.0,
        max_entries: int = 1024,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.ttl = ttl
        self.max_entries = max_entries
        self.clock = clock
        self._entries: dict[str, tuple[float, ApiKey]] = {}

    def cached(self, secret: str) -> ApiKey | None:
        """The key if it was found valid less than `ttl` seconds ago (no database read)."""
        digest = hash_key(secret)
        hit = self._entries.get(digest)
        if hit is None or hit[0] <= self.clock():
            return None
        key = hit[1]
        if key.expires_at is not None and key.expires_at <= now():
            self._entries.pop(digest, None)
            return None  # `authenticate` says why
        return key

    def authenticate(self, secret: str) -> ApiKey:
        """The key behind a secret, from the cache or the store; AuthError as `authenticate`."""
        key = self.cached(secret)
        if key is not None:
            return key
        key = authenticate(self.store, secret)
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[hash_key(secret)] = (self.clock() + self.ttl, key)
        return key


def revoke_key(store: Store, key_id: str, actor: str = "cli") -> None:
    with store.write() as tx:
        if not tx.revoke_api_key(key_id, now()):
            raise NotFound(f"no active API key {key_id!r}")
        audit.record(tx, actor, "key.revoked", key_id)


def list_keys(store: Store) -> list[dict[str, object]]:
    with store.read() as tx:
        return [{k: v for k, v in row.items() if k != "key_hash"} for row in tx.list_api_keys()]
