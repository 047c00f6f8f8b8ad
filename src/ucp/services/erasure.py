"""Erasure (right to be forgotten): remove a person completely, in one transaction, in seconds.

**Who is erased.** A profile id erases every record of the profile. A `TYPE:VALUE` identifier
erases the records that carry it, plus — repeated until nothing changes — any record of the same
profile whose every identifier is held only by records already being erased (it has nothing of
its own that ties it to someone else). In a profile that wrongly merged two people through a
shared value (a family phone), erasing one person by their email therefore leaves the other
person's records, and the profile re-clusters around them.

**What goes.** The records (every version), their identifiers, search terms, blocking keys,
links, memberships, review items and the steward constraints naming them; the events carrying
one of the person's *exclusive* identifiers (values no surviving record holds); consent entries
on those identifiers (and on the profile when it goes entirely); group memberships; inbox
payloads (queued or applied) that carry them; traits, pins and aliases of profiles that go, and
pins holding one of the person's values on profiles that stay. Audit entries keep the fact and
time of each action, with personal values replaced by tombstones (the chain still verifies);
earlier privacy requests of the person lose their subject and their export.

**What stays.** The person's linkable exclusive identifiers, as keyed hashes on the suppression
list, so ingest drops them from now on; values shared with people who stay (a family phone)
are neither erased from those people nor suppressed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Text, and_, cast, delete, func, or_, select, update

from ucp.config import UCPConfig
from ucp.domain.attributes import PII_ATTRIBUTES
from ucp.domain.audit import tombstone, tombstone_subject
from ucp.domain.mapping import lookup
from ucp.domain.model import RecordKey
from ucp.errors import ConfigError, InputError, NotFound
from ucp.services import audit, suppression
from ucp.services.identifiers import IdentifierStandardizer
from ucp.services.locking import lock_identifiers
from ucp.services.resolution import build_resolver, opened_blocks, resolve_touched
from ucp.store import tables as t
from ucp.store.store import StoreTx

_CHUNK = 500
_MIN_TERM = 3

Pair = tuple[str, str]


@dataclass(slots=True)
class ErasureReport:
    """What an erasure removed (counts only: the report itself holds no personal data)."""

    profiles_erased: list[str] = field(default_factory=list)
    profiles_kept: list[str] = field(default_factory=list)
    records: int = 0
    record_versions: int = 0
    events: int = 0
    identifiers_suppressed: int = 0
    consent_entries: int = 0
    inbox_messages: int = 0
    audit_entries_tombstoned: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__}  # type: ignore[attr-defined]


@dataclass(slots=True)
class Scope:
    """The subject of an erasure, as found in the store."""

    records: set[int]
    profiles: set[str]
    given: Pair | None
    exclusive: set[Pair] = field(default_factory=set)
    linkable: set[Pair] = field(default_factory=set)
    terms: set[str] = field(default_factory=set)
    identifier_terms: set[str] = field(default_factory=set)
    keys: set[RecordKey] = field(default_factory=set)


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


def standardized_identifier(config: UCPConfig, text: str) -> Pair:
    typ, sep, raw = text.partition(":")
    typ = typ.strip()
    if not sep or not typ or not raw:
        raise InputError(
            "subject must be a profile id or TYPE:VALUE, e.g. email:ann@example.com",
            field="subject",
        )
    if typ not in config.identifiers:
        known = ", ".join(sorted(config.identifiers))
        raise InputError(f"unknown identifier type {typ!r} (known: {known})", field="subject")
    ident = IdentifierStandardizer(config).identifier(typ, raw, None)
    if ident is None:
        raise InputError("the identifier value is empty", field="subject")
    return ident[0], ident[1]


def _holders(tx: StoreTx, pairs: Iterable[Pair]) -> dict[Pair, set[int]]:
    """Every record holding each pair (linkable or not)."""
    i = t.identifiers.c
    wanted = set(pairs)
    out: dict[Pair, set[int]] = {p: set() for p in wanted}
    for part in _chunks(sorted({v for _, v in wanted})):
        for rid, typ, val in tx.conn.execute(
            select(i.record_id, i.type, i.value).where(i.value.in_(list(part)))
        ):
            if (typ, val) in wanted:
                out[(typ, val)].add(rid)
    return out


def _identifiers_of(
    tx: StoreTx, record_ids: Iterable[int]
) -> dict[int, set[tuple[str, str, bool]]]:
    out: dict[int, set[tuple[str, str, bool]]] = {}
    for row in tx.record_identifiers(sorted(set(record_ids))):
        out.setdefault(row["record_id"], set()).add((row["type"], row["value"], row["linkable"]))
    return out


def profile_of(tx: StoreTx, record_ids: Iterable[int]) -> dict[int, str | None]:
    r = t.records.c
    out: dict[int, str | None] = {}
    for part in _chunks(sorted(set(record_ids))):
        for rid, pid in tx.conn.execute(select(r.id, r.profile_id).where(r.id.in_(list(part)))):
            out[rid] = pid
    return out


def find_scope(tx: StoreTx, config: UCPConfig, subject: str) -> Scope:
    """The records, profiles and identifiers an erasure of `subject` removes (module doc)."""
    resolved = tx.resolve_profile_id(subject) if subject.startswith("p_") else None
    if subject.startswith("p_") and resolved is None:
        raise NotFound(f"no profile {subject!r}")
    if resolved is not None:
        pid = resolved[0]
        records = {r["id"] for r in tx.profile_records(pid)}
        scope = Scope(records, {pid}, None)
    else:
        given = standardized_identifier(config, subject)
        records = set(_holders(tx, [given])[given])
        records = _grow(tx, records)
        owners = {p for p in profile_of(tx, records).values() if p}
        scope = Scope(records, owners, given)
    _describe(tx, config, scope)
    return scope


def _grow(tx: StoreTx, records: set[int]) -> set[int]:
    """Add records of the same profiles that share identifiers only with erased records."""
    if not records:
        return records
    owners = {p for p in profile_of(tx, records).values() if p}
    members: set[int] = set()
    for pid in owners:
        members |= {r["id"] for r in tx.profile_records(pid)}
    changed = True
    while changed:
        changed = False
        others = members - records
        if not others:
            break
        idents = _identifiers_of(tx, others)
        held = _holders(tx, {(typ, val) for ids in idents.values() for typ, val, _ in ids})
        for rid in sorted(others):
            pairs = {(typ, val) for typ, val, _ in idents.get(rid, set())}
            if not pairs:
                continue
            if all(held[p] <= records | {rid} for p in pairs) and any(
                held[p] & records for p in pairs
            ):
                records = records | {rid}
                changed = True
    return records


def _describe(tx: StoreTx, config: UCPConfig, scope: Scope) -> None:
    """Exclusive identifiers, what may be suppressed, and the text terms of the person."""
    idents = _identifiers_of(tx, scope.records)
    pairs = {(typ, val) for ids in idents.values() for typ, val, _ in ids}
    linkable = {(typ, val) for ids in idents.values() for typ, val, ok in ids if ok}
    if scope.given is not None:
        pairs.add(scope.given)
        linkable.add(scope.given)
    held = _holders(tx, pairs)
    scope.exclusive = {p for p in pairs if held[p] <= scope.records}
    normalize = IdentifierStandardizer(config)
    scope.linkable = {
        p for p in linkable & scope.exclusive if p[1] not in normalize.blocked_values(p[0])
    }
    scope.keys = set(tx.record_keys(scope.records).values())
    identifier_terms = {v for _, v in scope.exclusive}
    terms: set[str] = set()
    rv, r = t.record_versions.c, t.records.c
    for part in _chunks(sorted(scope.records)):
        for source, raw, attrs in tx.conn.execute(
            select(r.source, rv.raw, rv.attributes)
            .join(t.records, r.id == rv.record_id)
            .where(rv.record_id.in_(list(part)))
        ):
            spec = config.sources.get(source)
            for typ, path in spec.identifiers.items() if spec else ():
                value = lookup(raw or {}, path)
                if isinstance(value, (str, int)) and str(value).strip():
                    ident = normalize.identifier(typ, value, spec.default_country if spec else None)
                    if ident and (ident[0], ident[1]) in scope.exclusive:
                        identifier_terms.add(str(value).strip())
            for name, a in (attrs or {}).items():
                if name in PII_ATTRIBUTES and isinstance(a, dict):
                    for part_name in ("raw", "value", "match"):
                        v = a.get(part_name)
                        if isinstance(v, str) and len(v.strip()) >= _MIN_TERM:
                            terms.add(v.strip())
    scope.identifier_terms = {v for v in identifier_terms if len(v) >= _MIN_TERM}
    scope.terms = (
        terms
        | scope.identifier_terms
        | {k.source_key for k in scope.keys if len(k.source_key) >= 4}
    )


# -- the erasure itself --------------------------------------------------------------------------
def erase_in(
    tx: StoreTx,
    config: UCPConfig,
    subject: str,
    secret: bytes | None,
    actor: str,
    dsr_id: str,
    request_id: str | None,
    at: datetime,
) -> ErasureReport:
    """Erase `subject` inside the caller's write transaction (see the module docstring)."""
    if secret is None:
        raise ConfigError(
            "erasure needs UCP_SECRET_KEY (at least 16 random characters) to keep the erased "
            "identifiers as keyed hashes on the suppression list; set it and try again"
        )
    if tx.dialect == "sqlite":
        # overwrite freed pages, so deleted values do not linger in the database file
        tx.conn.exec_driver_sql("PRAGMA secure_delete=ON")
    scope = find_scope(tx, config, subject)
    lock_identifiers(tx, scope.exclusive, [(k.source, k.source_key) for k in scope.keys])
    report = ErasureReport()
    records = sorted(scope.records)
    aliases = {a for pid in scope.profiles for a in tx.aliases_of(pid)}
    report.records = len(records)
    keys_before = tx.blocking_keys_of(records)
    report.record_versions = delete_records(tx, records, scope.keys)
    report.events = _delete_events(tx, scope.exclusive)
    report.inbox_messages = _delete_inbox(tx, config, scope)
    _delete_groups(tx, scope.exclusive)
    report.consent_entries = _delete_consent(tx, scope.exclusive, set())
    resolver = build_resolver(config, tx)
    # with the holders of a block the erased records kept too big to pair
    survivors = sorted(set(records_of_profiles(tx, scope.profiles))
                       | opened_blocks(tx, resolver, keys_before))
    if survivors:
        resolve_touched(tx, resolver, survivors, at)
    live = {p for p in profile_of(tx, survivors).values() if p}
    gone = sorted(scope.profiles - live)
    kept = sorted(scope.profiles & live)
    drop_profiles(tx, gone, aliases)
    report.consent_entries += _delete_consent(tx, set(), set(gone) | aliases)
    _scrub_pins(tx, kept, scope.terms)
    recompute_traits(tx, config, live, at)
    report.identifiers_suppressed = suppression.add(tx, secret, scope.linkable, dsr_id, at)
    report.audit_entries_tombstoned = tombstone_audit(tx, scope)
    _scrub_requests(tx, scope, subject, dsr_id)
    for pid in gone:
        tx.add_change("profile.erased", pid, {"request": dsr_id}, at)
    for pid in kept:
        tx.add_change("profile.updated", pid, {"erasure": dsr_id, "records_erased": True}, at)
    report.profiles_erased, report.profiles_kept = gone, kept
    audit.record(
        tx,
        actor,
        "privacy.erased",
        f"dsr:{dsr_id}",
        request_id,
        {k: v for k, v in report.to_dict().items() if k not in ("seconds",)},
    )
    return report


def delete_records(tx: StoreTx, records: Sequence[int], keys: set[RecordKey]) -> int:
    versions = 0
    for part in _chunks(records):
        ids = list(part)
        for table, col in (
            (t.identifiers, t.identifiers.c.record_id),
            (t.search_terms, t.search_terms.c.record_id),
            (t.blocking_keys, t.blocking_keys.c.record_id),
            (t.memberships, t.memberships.c.record_id),
        ):
            tx.conn.execute(delete(table).where(col.in_(ids)))
        lc, rc = t.links.c, t.review_items.c
        tx.conn.execute(delete(t.links).where(or_(lc.record_a.in_(ids), lc.record_b.in_(ids))))
        tx.conn.execute(
            delete(t.review_items).where(or_(rc.record_a.in_(ids), rc.record_b.in_(ids)))
        )
        versions += tx.conn.execute(
            delete(t.record_versions).where(t.record_versions.c.record_id.in_(ids))
        ).rowcount
        tx.conn.execute(delete(t.records).where(t.records.c.id.in_(ids)))
    c = t.constraints.c
    for key in sorted(keys):
        tx.conn.execute(
            delete(t.constraints).where(
                or_(
                    and_(c.source_a == key.source, c.key_a == key.source_key),
                    and_(c.source_b == key.source, c.key_b == key.source_key),
                )
            )
        )
    return int(versions)


def _events_of(tx: StoreTx, pairs: set[Pair]) -> list[int]:
    ei = t.event_identifiers.c
    found: set[int] = set()
    for part in _chunks(sorted({v for _, v in pairs})):
        for eid, typ, val in tx.conn.execute(
            select(ei.event_id, ei.type, ei.value).where(ei.value.in_(list(part)))
        ):
            if (typ, val) in pairs:
                found.add(eid)
    return sorted(found)


def _delete_events(tx: StoreTx, pairs: set[Pair]) -> int:
    events = _events_of(tx, pairs)
    for part in _chunks(events):
        ids = list(part)
        tx.conn.execute(delete(t.event_identifiers).where(t.event_identifiers.c.event_id.in_(ids)))
        tx.conn.execute(delete(t.events).where(t.events.c.id.in_(ids)))
    return len(events)


def _like_any(column: Any, terms: Iterable[str]) -> Any:
    text = func.lower(cast(column, Text))
    return or_(*(text.like(f"%{_escape(term.lower())}%", escape="\\") for term in terms))


def _escape(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _strings(doc: Any) -> Iterable[str]:
    if isinstance(doc, dict):
        for v in doc.values():
            yield from _strings(v)
    elif isinstance(doc, list):
        for v in doc:
            yield from _strings(v)
    elif isinstance(doc, (str, int)) and not isinstance(doc, bool):
        yield str(doc).strip().casefold()


def _delete_inbox(tx: StoreTx, config: UCPConfig, scope: Scope) -> int:
    """Inbox messages (pending or applied) that carry one of the person's identifiers."""
    terms = sorted(scope.identifier_terms)
    if not terms:
        return 0
    wanted = {term.casefold() for term in terms}
    c = t.inbox.c
    doomed: list[int] = []
    for part in _chunks(terms):
        for iid, payload in tx.conn.execute(
            select(c.id, c.payload).where(_like_any(c.payload, part))
        ):
            if any(s in wanted for s in _strings(payload)):
                doomed.append(iid)
    for part in _chunks(sorted(set(doomed))):
        tx.conn.execute(delete(t.inbox).where(c.id.in_(list(part))))
    return len(set(doomed))


def _delete_groups(tx: StoreTx, pairs: set[Pair]) -> None:
    g = t.group_memberships.c
    for typ, val in sorted(pairs):
        tx.conn.execute(
            delete(t.group_memberships).where(g.identifier_type == typ, g.identifier_value == val)
        )


def _delete_consent(tx: StoreTx, pairs: set[Pair], profile_ids: set[str]) -> int:
    c = t.consent.c
    n = 0
    wanted = set(pairs) | {("profile", pid) for pid in profile_ids}
    for part in _chunks(sorted({v for _, v in wanted})):
        rows = tx.conn.execute(
            select(c.id, c.subject_type, c.subject).where(c.subject.in_(list(part)))
        ).all()
        ids = [cid for cid, typ, val in rows if (typ, val) in wanted]
        if ids:
            n += tx.conn.execute(delete(t.consent).where(c.id.in_(ids))).rowcount
    return int(n)


def records_of_profiles(tx: StoreTx, profiles: set[str]) -> list[int]:
    return sorted(r["id"] for pid in sorted(profiles) for r in tx.profile_records(pid))


def drop_profiles(tx: StoreTx, gone: Sequence[str], aliases: set[str]) -> None:
    ids = sorted(set(gone) | aliases)
    for part in _chunks(ids):
        part_ids = list(part)
        tx.conn.execute(delete(t.profiles).where(t.profiles.c.id.in_(part_ids)))
        tx.conn.execute(
            delete(t.profile_aliases).where(
                or_(
                    t.profile_aliases.c.profile_id.in_(part_ids),
                    t.profile_aliases.c.alias.in_(part_ids),
                )
            )
        )
        tx.conn.execute(delete(t.pins).where(t.pins.c.profile_id.in_(part_ids)))
        tx.conn.execute(
            delete(t.profile_traits).where(t.profile_traits.c.profile_id.in_(part_ids))
        )


def _scrub_pins(tx: StoreTx, kept: Sequence[str], terms: set[str]) -> None:
    if not kept:
        return
    folded = {term.casefold() for term in terms}
    pc = t.pins.c
    rows = tx.conn.execute(select(pc.id, pc.value).where(pc.profile_id.in_(list(kept)))).all()
    doomed = [pid for pid, value in rows if str(value).strip().casefold() in folded]
    if doomed:
        tx.conn.execute(delete(t.pins).where(pc.id.in_(doomed)))


def recompute_traits(tx: StoreTx, config: UCPConfig, profiles: set[str], at: datetime) -> None:
    from ucp.services.traits import TraitComputer

    if profiles and config.traits:
        TraitComputer(config).recompute(tx, profiles, at)


# -- tombstones --------------------------------------------------------------------------------
def _matcher(terms: Iterable[str]) -> re.Pattern[str] | None:
    words = sorted({term.casefold() for term in terms if len(term) >= _MIN_TERM}, key=len)
    if not words:
        return None
    alternatives = "|".join(re.escape(w) for w in reversed(words))
    return re.compile(rf"(?<![\w])(?:{alternatives})(?![\w])", re.IGNORECASE)


def tombstone_audit(tx: StoreTx, scope: Scope) -> int:
    """Replace the person's values in audit entries by tombstones; returns entries changed."""
    matcher = _matcher(scope.terms)
    if matcher is None:
        return 0
    a = t.audit_log.c
    changed = 0
    terms = sorted(scope.terms)
    for part in _chunks(terms):
        rows = tx.conn.execute(
            select(a.id, a.subject, a.details).where(
                or_(_like_any(a.details, part), _like_any(a.subject, part))
            )
        ).all()
        for aid, subject, details in rows:
            new_details = {
                k: tombstone(v)
                if matcher.search(orjson.dumps(v).decode() if not isinstance(v, str) else v)
                else v
                for k, v in (details or {}).items()
            }
            new_subject = (
                tombstone_subject(subject) if subject and matcher.search(subject) else subject
            )
            if new_details != details or new_subject != subject:
                tx.conn.execute(
                    update(t.audit_log)
                    .where(a.id == aid)
                    .values(details=new_details, subject=new_subject)
                )
                changed += 1
    return changed


def _scrub_requests(tx: StoreTx, scope: Scope, subject: str, dsr_id: str) -> None:
    """Earlier privacy requests about the person keep type, status and times only."""
    pr = t.privacy_requests.c
    matcher = _matcher(scope.terms | {subject})
    rows = tx.conn.execute(select(pr.id, pr.subject, pr.result)).all()
    for rid, subj, result in rows:
        if rid == dsr_id:
            continue  # the caller writes the erasure request's own outcome
        profiles = set((result or {}).get("profiles") or [])
        hit = bool(profiles & scope.profiles) or subj in scope.profiles
        hit = hit or bool(matcher and matcher.search(subj or ""))
        if hit:
            kept = {k: v for k, v in (result or {}).items() if k in ("erasure", "error")}
            tx.conn.execute(
                update(t.privacy_requests)
                .where(pr.id == rid)
                .values(subject=tombstone_subject(subj) or "", result={**kept, "scrubbed": True})
            )
