"""The consent ledger: recording entries, reading a profile's state, and the one enforcement
point for data that leaves (`require_purpose`, `consented_profiles`).

Entries are appended by the API (`PUT /v1/profiles/{id}/consent`), by file sources with a
`consent:` section and by `Consent Updated` events (both through the `SourceIngestor` hook
`record_from_ingest`). State is computed at read time (`domain.consent`) from the entries on the
profile, its retired ids and every identifier of its records — so a merge brings both histories
together and a split takes each identifier's history along.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, insert, select

from ucp.config import SourceConfig, UCPConfig
from ucp.domain.consent import (
    PROFILE_SUBJECT,
    STATUSES,
    ConsentEntry,
    PurposeState,
    parse_status,
    profile_state,
    purpose_state,
)
from ucp.domain.mapping import lookup
from ucp.domain.masking import mask_identifier
from ucp.domain.standardize import Context, standardize
from ucp.errors import ConsentRequired, InputError, NotFound
from ucp.services import audit
from ucp.services.identifiers import IdentifierStandardizer
from ucp.store import tables as t
from ucp.store.store import Store, StoreTx, now

CONSENT_EVENT = "consent updated"
_CHUNK = 500


def purposes_of(config: UCPConfig) -> dict[str, tuple[str, str]]:
    return {n: (p.default, p.legal_basis) for n, p in config.consent.purposes.items()}


def check_purpose(config: UCPConfig, purpose: str) -> None:
    if purpose not in config.consent.purposes:
        known = ", ".join(sorted(config.consent.purposes)) or "none configured"
        raise InputError(f"unknown purpose {purpose!r} (known: {known})", field="purpose")


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _entry(row: Any) -> ConsentEntry:
    return ConsentEntry(
        subject_type=row["subject_type"],
        subject=row["subject"],
        purpose=row["purpose"],
        status=row["status"],
        occurred_at=_aware(row["occurred_at"]),
        channel=row["channel"],
        source=row["source"],
        id=row["id"],
    )


# -- reading -----------------------------------------------------------------------------------
def _profile_subjects(tx: StoreTx, profile_id: str) -> list[tuple[str, str]]:
    ids = [profile_id, *tx.aliases_of(profile_id)]
    records = [r["id"] for r in tx.profile_records(profile_id)]
    idents = {(i["type"], i["value"]) for i in tx.record_identifiers(records)}
    return [(PROFILE_SUBJECT, pid) for pid in ids] + sorted(idents)


def _entries_on(
    tx: StoreTx, subjects: Sequence[tuple[str, str]], purpose: str | None = None
) -> list[dict[str, Any]]:
    c = t.consent.c
    wanted = set(subjects)
    out: list[dict[str, Any]] = []
    values = sorted({v for _, v in wanted})
    for i in range(0, len(values), _CHUNK):
        stmt = select(t.consent).where(c.subject.in_(values[i : i + _CHUNK]))
        if purpose is not None:
            stmt = stmt.where(c.purpose == purpose)
        for row in tx.conn.execute(stmt).mappings():
            if (row["subject_type"], row["subject"]) in wanted:
                out.append(dict(row))
    return sorted(out, key=lambda r: (_aware(r["occurred_at"]), r["id"]))


def _live_id(tx: StoreTx, profile_id: str) -> str:
    resolved = tx.resolve_profile_id(profile_id)
    if resolved is None:
        raise NotFound(f"no profile {profile_id!r}")
    return resolved[0]


def profile_consent(
    store: Store, config: UCPConfig, profile_id: str, pii: bool = True
) -> dict[str, Any]:
    """A profile's state per purpose and its full ledger history, oldest first.

    With `pii=False` identifier subjects are masked (analysts).
    """
    with store.read() as tx:
        pid = _live_id(tx, profile_id)
        rows = _entries_on(tx, _profile_subjects(tx, pid))
    states = profile_state([_entry(r) for r in rows], purposes_of(config))
    history = [
        {
            "id": r["id"],
            "subject_type": r["subject_type"],
            "subject": r["subject"]
            if pii or r["subject_type"] == PROFILE_SUBJECT
            else mask_identifier(r["subject_type"], r["subject"]),
            "purpose": r["purpose"],
            "channel": r["channel"],
            "status": r["status"],
            "occurred_at": r["occurred_at"],
            "source": r["source"],
            "evidence": r["evidence"] if pii else {},
        }
        for r in rows
    ]
    return {
        "profile_id": pid,
        "purposes": {name: s.to_dict() for name, s in states.items()},
        "history": history,
    }


def state_for(tx: StoreTx, config: UCPConfig, profile_id: str, purpose: str) -> PurposeState:
    check_purpose(config, purpose)
    default, basis = purposes_of(config)[purpose]
    rows = _entries_on(tx, _profile_subjects(tx, profile_id), purpose)
    return purpose_state(purpose, [_entry(r) for r in rows], default, basis)


# -- enforcement (the one place) -------------------------------------------------------------
def require_purpose(tx: StoreTx, config: UCPConfig, profile_id: str, purpose: str) -> None:
    """Raise ConsentRequired (403) unless the live profile consents to `purpose`."""
    state = state_for(tx, config, profile_id, purpose)
    if not state.allowed:
        raise ConsentRequired(
            f"profile {profile_id} has not consented to {purpose!r} ({state.status})",
            purpose=purpose,
            consent_status=state.status,
        )


def consented_profiles(
    tx: StoreTx, config: UCPConfig, purpose: str, profile_ids: Iterable[str]
) -> set[str]:
    """The subset of live `profile_ids` whose state for `purpose` is granted (bulk: two
    queries per 500 profiles, whatever the number of entries)."""
    check_purpose(config, purpose)
    default, basis = purposes_of(config)[purpose]
    pids = sorted(set(profile_ids))
    entries = _entries_by_profile(tx, purpose, pids)
    out: set[str] = set()
    for pid in pids:
        found = entries.get(pid)
        status = default if not found else purpose_state(purpose, found, default, basis).status
        if status == "granted":
            out.add(pid)
    return out


_ENTRY_COLUMNS = tuple(
    t.consent.c[name]
    for name in (
        "id",
        "subject_type",
        "subject",
        "purpose",
        "status",
        "occurred_at",
        "channel",
        "source",
    )
)


def _entries_by_profile(
    tx: StoreTx, purpose: str, pids: Sequence[str]
) -> dict[str, list[ConsentEntry]]:
    c, i, r, a = t.consent.c, t.identifiers.c, t.records.c, t.profile_aliases.c
    out: dict[str, list[ConsentEntry]] = defaultdict(list)
    for n in range(0, len(pids), _CHUNK):
        part = list(pids[n : n + _CHUNK])
        by_ident = (
            select(r.profile_id, *_ENTRY_COLUMNS)
            .select_from(t.consent)
            .join(t.identifiers, and_(i.type == c.subject_type, i.value == c.subject))
            .join(t.records, r.id == i.record_id)
            .where(c.purpose == purpose, r.profile_id.in_(part))
        )
        seen: set[tuple[str, int]] = set()
        for row in tx.conn.execute(by_ident).mappings():
            if (row["profile_id"], row["id"]) not in seen:
                seen.add((row["profile_id"], row["id"]))
                out[row["profile_id"]].append(_entry(row))
        direct = select(*_ENTRY_COLUMNS).where(
            c.purpose == purpose, c.subject_type == PROFILE_SUBJECT, c.subject.in_(part)
        )
        for row in tx.conn.execute(direct).mappings():
            out[row["subject"]].append(_entry(row))
        aliased = (
            select(a.profile_id.label("owner"), *_ENTRY_COLUMNS)
            .select_from(t.consent)
            .join(t.profile_aliases, a.alias == c.subject)
            .where(c.purpose == purpose, c.subject_type == PROFILE_SUBJECT, a.profile_id.in_(part))
        )
        for row in tx.conn.execute(aliased).mappings():
            out[row["owner"]].append(_entry(row))
    return out


def list_consented(
    store: Store, config: UCPConfig, purpose: str, cursor: str | None, limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of profiles (id order) that consent to `purpose`, and the next cursor."""
    check_purpose(config, purpose)
    if not 1 <= limit <= 1000:
        raise InputError("limit must be between 1 and 1000", field="limit")
    found: list[dict[str, Any]] = []
    after = cursor
    with store.read() as tx:
        while len(found) <= limit:
            page = tx.list_profiles(after, max(limit * 2, 100))
            if not page:
                break
            ok = consented_profiles(tx, config, purpose, [p["id"] for p in page])
            for row in page:
                if row["id"] in ok:
                    found.append(row)
                    if len(found) > limit:
                        break
                after = row["id"]
            if len(found) > limit:
                break
    more = len(found) > limit
    found = found[:limit]
    return found, (found[-1]["id"] if more and found else None)


# -- writing -----------------------------------------------------------------------------------
def _row(
    subject_type: str,
    subject: str,
    purpose: str,
    status: str,
    at: datetime,
    source: str,
    channel: str | None = None,
    evidence: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "subject_type": subject_type,
        "subject": subject,
        "purpose": purpose,
        "channel": channel,
        "status": status,
        "occurred_at": at,
        "source": source,
        "evidence": evidence or {},
    }


def record_consent(
    store: Store,
    config: UCPConfig,
    profile_id: str,
    purpose: str,
    status: str,
    actor: str,
    channel: str | None = None,
    identifier: str | None = None,
    evidence: dict[str, Any] | None = None,
    occurred_at: datetime | None = None,
    request_id: str | None = None,
) -> dict[str, Any]:
    """Append one entry on a profile (or, with `identifier` TYPE:VALUE, on one of its
    identifiers); audited. Returns the profile's new state for the purpose."""
    check_purpose(config, purpose)
    if status not in STATUSES:
        raise InputError(f"status must be one of {', '.join(STATUSES)}", field="status")
    at = now()
    when = _aware(occurred_at) if occurred_at else at
    with store.write() as tx:
        pid = _live_id(tx, profile_id)
        subject_type, subject = PROFILE_SUBJECT, pid
        if identifier is not None:
            subject_type, subject = _identifier_of_profile(tx, config, pid, identifier)
        body = {**(evidence or {}), "actor": actor}
        if request_id:
            body["request_id"] = request_id
        tx.conn.execute(
            insert(t.consent),
            _row(subject_type, subject, purpose, status, when, "api", channel, body),
        )
        audit.record(
            tx,
            actor,
            "consent.recorded",
            pid,
            request_id,
            {"purpose": purpose, "status": status, "subject_type": subject_type},
        )
        state = state_for(tx, config, pid, purpose)
    return {"profile_id": pid, **state.to_dict()}


def _identifier_of_profile(tx: StoreTx, config: UCPConfig, pid: str, text: str) -> tuple[str, str]:
    typ, sep, raw = text.partition(":")
    if not sep or typ not in config.identifiers:
        raise InputError("identifier must be TYPE:VALUE of a configured type", field="identifier")
    ident = IdentifierStandardizer(config).identifier(typ, raw, None)
    held = {(i[0], i[1]) for i in _profile_subjects(tx, pid)}
    if ident is None or (ident[0], ident[1]) not in held:
        raise InputError("the identifier is not one of this profile's", field="identifier")
    return ident[0], ident[1]


# -- the ingest hook ---------------------------------------------------------------------------
class IngestConsent:
    """Turns stored rows of one source into ledger entries (`consent:` section, and events
    named `Consent Updated`). Called by `SourceIngestor` inside its chunk transaction."""

    def __init__(self, config: UCPConfig, source: str) -> None:
        self.config = config
        self.name = source
        self.source: SourceConfig = config.source(source)
        self.context = Context(
            country=self.source.default_country, date_order=self.source.date_order
        )
        self.priority = {typ: rule.priority for typ, rule in config.identifiers.items()}

    def record(
        self,
        tx: StoreTx,
        records: Sequence[dict[str, Any]],
        events: Sequence[tuple[dict[str, Any], list[tuple[str, str]]]],
        at: datetime,
    ) -> int:
        """Append the entries the stored rows carry (an entry already in the ledger is not
        appended again); returns how many were appended."""
        if not self.config.consent.purposes:
            return 0
        rows = [e for p in records if (e := self._from_record(p, at))]
        rows += [e for ev, ids in events if (e := self._from_event(ev, ids, at))]
        if not rows:
            return 0
        rows = self._new_only(tx, rows)
        if rows:
            tx.conn.execute(insert(t.consent), rows)
        return len(rows)

    def _from_record(self, payload: dict[str, Any], at: datetime) -> dict[str, Any] | None:
        spec = self.source.consent
        if spec is None:
            return None
        subject = next((v for typ, v, _ in payload["identifiers"] if typ == spec.subject), None)
        raw = payload["raw"]
        status = parse_status(lookup(raw, spec.status), spec.status_values)
        if subject is None or status is None:
            return None
        evidence = {"record": f"{self.name}:{payload['source_key']}"}
        evidence.update({p: lookup(raw, p) for p in spec.evidence})
        when = self._time(lookup(raw, spec.time) if spec.time else None) or at
        return _row(
            spec.subject, subject, spec.purpose, status, when, self.name, spec.channel, evidence
        )

    def _from_event(
        self, event: dict[str, Any], idents: list[tuple[str, str]], at: datetime
    ) -> dict[str, Any] | None:
        if str(event.get("name", "")).strip().lower() != CONSENT_EVENT or not idents:
            return None
        props = event.get("properties") or {}
        inner = props.get("properties")
        if isinstance(inner, dict):
            props = inner
        purpose = props.get("purpose")
        status = parse_status(props.get("status"))
        if purpose not in self.config.consent.purposes or status is None:
            return None
        typ, value = min(idents, key=lambda p: (self.priority.get(p[0], 100), p))
        channel = props.get("channel")
        when = event.get("occurred_at") or at
        evidence = {"event": f"{self.name}:{event['event_key']}"}
        if props.get("evidence") is not None:
            evidence["evidence"] = props["evidence"]
        return _row(
            typ,
            value,
            str(purpose),
            status,
            when,
            self.name,
            None if channel is None else str(channel),
            evidence,
        )

    def _time(self, raw: Any) -> datetime | None:
        if raw in (None, ""):
            return None
        std = standardize("timestamp", str(raw), self.context)
        if not std.value:
            return None
        try:
            return _aware(datetime.fromisoformat(str(std.value).replace("Z", "+00:00")))
        except ValueError:
            return None

    def _new_only(self, tx: StoreTx, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        def sig(r: dict[str, Any]) -> tuple[Any, ...]:
            return (
                r["subject_type"],
                r["subject"],
                r["purpose"],
                r["channel"],
                r["status"],
                _aware(r["occurred_at"]).isoformat(),
                r["source"],
            )

        existing = {
            sig(r) for r in _entries_on(tx, [(r["subject_type"], r["subject"]) for r in rows])
        }
        out, seen = [], set()
        for r in rows:
            s = sig(r)
            if s not in existing and s not in seen:
                seen.add(s)
                out.append(r)
        return out
