"""The suppression list: an erased person's identifiers, kept only as keyed hashes.

Ingest (files and the collector alike, through `SourceIngestor`) drops every record and event
that carries a suppressed identifier and counts it, so an erased person is not silently
re-created by tomorrow's import. Only an admin lifting the suppression lets them back in.

The hash is HMAC-SHA256 under `UCP_SECRET_KEY` of the identifier's type and matching form: the
list cannot be reversed without the secret, and the same value standardizes to the same hash.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, MutableMapping
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update

from ucp.config import UCPConfig
from ucp.errors import ConfigError, InputError, NotFound
from ucp.services import audit
from ucp.services.identifiers import IdentifierStandardizer
from ucp.settings import Settings
from ucp.store import tables as t
from ucp.store.store import Store, StoreTx, now

_CHUNK = 500


def secret_or_none(settings: Settings) -> bytes | None:
    """The keyed-hash secret when one is configured and usable, else None (no error)."""
    try:
        return settings.require_secret()
    except ConfigError:
        return None


def identifier_hash(secret: bytes, id_type: str, value: str) -> str:
    """HMAC-SHA256 of `type`, a unit separator and the matching value."""
    return hmac.new(secret, f"{id_type}\x1f{value}".encode(), hashlib.sha256).hexdigest()


def _active_exists(tx: StoreTx) -> bool:
    s = t.suppressions.c
    return tx.conn.execute(select(s.id).where(s.lifted_at.is_(None)).limit(1)).first() is not None


def suppressed(
    tx: StoreTx, secret: bytes | None, pairs: Iterable[tuple[str, str]]
) -> set[tuple[str, str]]:
    """Which `(type, value)` pairs are on the active suppression list (one query per 500).

    Without a secret nothing can be checked: if the list is not empty this refuses (ConfigError)
    rather than let an erased person back in.
    """
    wanted = set(pairs)
    if not wanted:
        return set()
    if secret is None:
        if _active_exists(tx):
            raise ConfigError(
                "the suppression list is not empty but UCP_SECRET_KEY is not set: ingest "
                "cannot tell erased persons apart; set UCP_SECRET_KEY to the key used to erase"
            )
        return set()
    by_hash = {identifier_hash(secret, typ, val): (typ, val) for typ, val in wanted}
    s = t.suppressions.c
    found: set[tuple[str, str]] = set()
    hashes = sorted(by_hash)
    for i in range(0, len(hashes), _CHUNK):
        for (h,) in tx.conn.execute(
            select(s.value_hash).where(
                s.value_hash.in_(hashes[i : i + _CHUNK]), s.lifted_at.is_(None)
            )
        ):
            found.add(by_hash[h])
    return found


def drop_suppressed(
    tx: StoreTx,
    secret: bytes | None,
    records: MutableMapping[str, tuple[int, dict[str, Any]]],
    events: MutableMapping[str, tuple[dict[str, Any], list[tuple[str, str]]]],
) -> int:
    """The ingest hook: remove (in place) every record and event of a chunk that carries a
    suppressed identifier; returns how many were dropped."""
    pairs = {
        (typ, val) for _, payload in records.values() for typ, val, _ in payload["identifiers"]
    }
    pairs |= {pair for _, idents in events.values() for pair in idents}
    hit = suppressed(tx, secret, pairs)
    if not hit:
        return 0
    drop_r = [
        k
        for k, (_, p) in records.items()
        if any((typ, val) in hit for typ, val, _ in p["identifiers"])
    ]
    drop_e = [k for k, (_, idents) in events.items() if any(pair in hit for pair in idents)]
    for k in drop_r:
        del records[k]
    for k in drop_e:
        del events[k]
    return len(drop_r) + len(drop_e)


def add(
    tx: StoreTx,
    secret: bytes,
    pairs: Iterable[tuple[str, str]],
    request_id: str | None,
    at: datetime,
) -> int:
    """Suppress identifiers (already active ones are not added twice); returns how many new."""
    wanted = sorted(set(pairs))
    active = suppressed(tx, secret, wanted)
    rows = [
        {
            "identifier_type": typ,
            "value_hash": identifier_hash(secret, typ, val),
            "request_id": request_id,
            "created_at": at,
        }
        for typ, val in wanted
        if (typ, val) not in active
    ]
    if rows:
        tx.conn.execute(insert(t.suppressions), rows)
    return len(rows)


def list_suppressions(store: Store, include_lifted: bool = False) -> list[dict[str, Any]]:
    """The list as stored: type, hash, the erasure request, when made and lifted."""
    s = t.suppressions.c
    stmt = select(t.suppressions).order_by(s.id)
    if not include_lifted:
        stmt = stmt.where(s.lifted_at.is_(None))
    with store.read() as tx:
        return [dict(row) for row in tx.conn.execute(stmt).mappings()]


def lift(
    store: Store,
    config: UCPConfig,
    actor: str,
    suppression_id: int | None = None,
    identifier: str | None = None,
    secret: bytes | None = None,
    request_id: str | None = None,
) -> int:
    """Lift a suppression by its id, or by `TYPE:VALUE` (needs the secret); returns the id."""
    s = t.suppressions.c
    at = now()
    with store.write() as tx:
        if identifier is not None:
            if secret is None:
                raise ConfigError("lifting by identifier needs UCP_SECRET_KEY")
            typ, value = _standardized(config, identifier)
            h = identifier_hash(secret, typ, value)
            row = tx.conn.execute(
                select(s.id).where(
                    s.identifier_type == typ, s.value_hash == h, s.lifted_at.is_(None)
                )
            ).first()
        elif suppression_id is not None:
            row = tx.conn.execute(
                select(s.id).where(s.id == suppression_id, s.lifted_at.is_(None))
            ).first()
        else:
            raise InputError("give a suppression id or an identifier", field="identifier")
        if row is None:
            raise NotFound("no active suppression matches")
        sid = int(row[0])
        tx.conn.execute(
            update(t.suppressions).where(s.id == sid).values(lifted_at=at, lifted_by=actor)
        )
        audit.record(tx, actor, "suppression.lifted", f"suppression:{sid}", request_id)
    return sid


def _standardized(config: UCPConfig, text: str) -> tuple[str, str]:
    typ, sep, raw = text.partition(":")
    if not sep or not typ or not raw:
        raise InputError("identifier must look like TYPE:VALUE", field="identifier")
    if typ not in config.identifiers:
        raise InputError(f"unknown identifier type {typ!r}", field="identifier")
    ident = IdentifierStandardizer(config).identifier(typ, raw, None)
    if ident is None:
        raise InputError("the identifier value is empty", field="identifier")
    return ident[0], ident[1]
