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
def profile_traits() -> Select:  # type: ignore[type-arg]
    pt = t.profile_traits.c
    return select(pt.trait_values, pt.updated_at).where(pt.profile_id == bindparam("pid"))


@cache
def profile_rows_by_identifier() -> Select:  # type: ignore[type-arg]
    """The profile rows holding an identifier, in one statement (the lookup's one query)."""
    i, r, p = t.identifiers.c, t.records.c, t.profiles.c
    holders = (
        select(r.profile_id)
        .join(t.identifiers, i.record_id == r.id)
        .where(i.type == bindparam("type"), i.value == bindparam("value"))
    )
    return select(t.profiles).where(p.id.in_(holders)).order_by(p.id)


@cache
def source_ranks() -> Select:  # type: ignore[type-arg]
    return select(t.sources.c.name, t.sources.c.trust_rank)


# -- real time on PostgreSQL: plain psycopg statements with array parameters sent in binary (no
# per-element quoting), run by `StoreTx._pg_rows`. One index probe per key (LATERAL … OFFSET 0
# keeps the planner from turning a batch of keys into a scan of the whole table when its
# statistics are stale, as they are while a fresh database fills up).
KNOWN_EVENT_KEYS_PG = (
    "SELECT k.key FROM unnest(%(keys)b::text[]) AS k(key) CROSS JOIN LATERAL "
    "(SELECT 1 FROM events e WHERE e.source = %(source)s AND e.event_key = k.key LIMIT 1) AS hit"
)
PROFILES_HOLDING_PG = (
    "SELECT p.type, p.value, r.profile_id "
    "FROM unnest(%(types)b::text[], %(values)b::text[]) AS p(type, value) "
    "CROSS JOIN LATERAL (SELECT i.record_id FROM identifiers i "
    "WHERE i.type = p.type AND i.value = p.value OFFSET 0) AS hit "
    "JOIN records r ON r.id = hit.record_id WHERE r.profile_id IS NOT NULL"
)
#: a retracted record's hash reads as "" so that the same row arriving again is a new version
EXISTING_RECORDS_PG = (
    "SELECT hit.source_key, hit.id, hit.version, "
    "CASE WHEN hit.deleted_at IS NULL THEN hit.content_hash ELSE '' END, hit.profile_id "
    "FROM unnest(%(keys)b::text[]) AS k(key) CROSS JOIN LATERAL "
    "(SELECT r.source_key, r.id, r.version, r.content_hash, r.profile_id, r.deleted_at "
    "FROM records r WHERE r.source = %(source)s AND r.source_key = k.key OFFSET 0) AS hit"
)
TRAIT_STATES_PG = (
    "SELECT k.pid, hit.trait_states FROM unnest(%(pids)b::text[]) AS k(pid) CROSS JOIN LATERAL "
    "(SELECT trait_states FROM profile_traits WHERE profile_id = k.pid OFFSET 0) AS hit"
)
REPLACE_TRAITS_PG = (
    "INSERT INTO profile_traits (profile_id, trait_values, trait_states, updated_at) "
    "SELECT p, v::json, s::json, %(at)s FROM unnest(%(pids)b::text[], %(vals)b::text[], "
    "%(states)b::text[]) AS k(p, v, s) "
    "ON CONFLICT (profile_id) DO UPDATE SET trait_values = EXCLUDED.trait_values, "
    "trait_states = EXCLUDED.trait_states, updated_at = EXCLUDED.updated_at"
)
INBOX_INSERT_PG = (
    "INSERT INTO inbox (source, message_id, type, payload, received_at, status, applied_at, "
    "error, attempts) SELECT s, m, ty, p::json, r, st, a, e, 0 FROM unnest(%(source)b::text[], "
    "%(message_id)b::text[], %(type)b::text[], %(payload)b::text[], "
    "%(received_at)b::timestamptz[], %(status)b::text[], %(applied_at)b::timestamptz[], "
    "%(error)b::text[]) AS u(s, m, ty, p, r, st, a, e) "
    "ON CONFLICT DO NOTHING RETURNING message_id"
)
#: the incremental path's block lookups: how many records hold each blocking key, and who
BLOCK_SIZES_PG = (
    "SELECT k.key, hit.n FROM unnest(%(keys)b::text[]) AS k(key) CROSS JOIN LATERAL "
    "(SELECT count(*) AS n FROM blocking_keys b WHERE b.key = k.key OFFSET 0) AS hit "
    "WHERE hit.n > 0"
)
BLOCK_HOLDERS_PG = (
    "SELECT hit.record_id, k.key FROM unnest(%(keys)b::text[]) AS k(key) CROSS JOIN LATERAL "
    "(SELECT b.record_id FROM blocking_keys b WHERE b.key = k.key OFFSET 0) AS hit"
)
#: tables a bulk load or a batch resolution fills: their planner statistics are refreshed
#: afterwards on PostgreSQL (see `StoreTx.refresh_statistics`)
ANALYZED_TABLES = (
    "records", "record_versions", "identifiers", "search_terms", "blocking_keys",
    "resolution_state", "profiles", "memberships", "links", "review_items",
)
