"""Prebuilt statements for the hot read paths (profile API, auth).

Building a SQLAlchemy statement costs more than running it on an indexed lookup; these are built
once per process, on first use, and executed with bound parameters.
"""

from __future__ import annotations

from functools import cache

from sqlalchemy import Select, and_, bindparam, or_, select

from ucp.store import tables as t


@cache
def profile_by_id() -> Select:  # type: ignore[type-arg]
    return select(t.profiles).where(t.profiles.c.id == bindparam("pid"))


@cache
def alias_target() -> Select:  # type: ignore[type-arg]
    a = t.profile_aliases.c
    return select(a.profile_id).where(a.alias == bindparam("pid"))


@cache
def profile_records() -> Select:  # type: ignore[type-arg]
    r = t.records.c
    return (
        select(r.id, r.source, r.source_key, r.version, r.attributes, r.first_seen, r.last_seen)
        .where(r.profile_id == bindparam("pid"))
        .order_by(r.source, r.source_key)
    )


@cache
def profile_identifiers() -> Select:  # type: ignore[type-arg]
    i, r = t.identifiers.c, t.records.c
    return (
        select(i.record_id, i.type, i.value, i.linkable)
        .join(t.records, r.id == i.record_id)
        .where(r.profile_id == bindparam("pid"))
    )


@cache
def profile_events() -> Select:  # type: ignore[type-arg]
    i, ei, e, r = t.identifiers.c, t.event_identifiers.c, t.events.c, t.records.c
    matched = (
        select(ei.event_id)
        .join(t.identifiers, and_(i.type == ei.type, i.value == ei.value))
        .join(t.records, r.id == i.record_id)
        .where(r.profile_id == bindparam("pid"))
    )
    return (
        select(e.id, e.source, e.event_key, e.name, e.occurred_at, e.received_at, e.properties)
        .where(e.id.in_(matched))
        .order_by(e.occurred_at.desc().nulls_last(), e.id.desc())
        .limit(bindparam("limit"))
    )


@cache
def profile_pins() -> Select:  # type: ignore[type-arg]
    p, a = t.pins.c, t.profile_aliases.c
    merged = select(a.alias).where(a.profile_id == bindparam("pid"))
    return (
        select(t.pins)
        .where(
            or_(p.profile_id == bindparam("pid"), p.profile_id.in_(merged)), p.revoked_at.is_(None)
        )
        .order_by(p.id.desc())
    )


@cache
def api_key_by_hash() -> Select:  # type: ignore[type-arg]
    return select(t.api_keys).where(t.api_keys.c.key_hash == bindparam("h"))


@cache
def profiles_by_identifier() -> Select:  # type: ignore[type-arg]
    i, r = t.identifiers.c, t.records.c
    return (
        select(r.profile_id)
        .join(t.identifiers, i.record_id == r.id)
        .where(
            i.type == bindparam("type"), i.value == bindparam("value"), r.profile_id.is_not(None)
        )
        .distinct()
        .order_by(r.profile_id)
    )


@cache
def source_ranks() -> Select:  # type: ignore[type-arg]
    return select(t.sources.c.name, t.sources.c.trust_rank)
