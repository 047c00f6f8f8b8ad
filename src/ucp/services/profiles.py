"""Reading profiles: by id (aliases redirect), by identifier, or page by page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ucp.config import UCPConfig
from ucp.domain.attributes import CANONICAL_ATTRIBUTES
from ucp.domain.search import parse_query
from ucp.domain.survivorship import DEFAULT_RULES, Candidate, golden_record
from ucp.errors import InputError, NotFound
from ucp.services import audit
from ucp.services.identifiers import IdentifierStandardizer
from ucp.services.traits import profile_traits
from ucp.store.store import Store, StoreTx, now

EVENT_LIMIT = 50


@dataclass(frozen=True, slots=True)
class ProfileView:
    """A profile as the API and CLI show it."""

    id: str
    redirected_from: str | None
    created_at: Any
    updated_at: Any
    as_of: datetime | None
    golden: dict[str, Any]
    identifiers: list[dict[str, Any]]
    records: list[dict[str, Any]]
    events: list[dict[str, Any]]
    traits: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "redirected_from": self.redirected_from,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "as_of": self.as_of,
            "golden": self.golden,
            "identifiers": self.identifiers,
            "records": self.records,
            "events": self.events,
            "traits": self.traits,
        }


def candidates_of(
    records: list[dict[str, Any]], ranks: dict[str, int]
) -> dict[str, list[Candidate]]:
    """Every record's standardized value per attribute, as survivorship candidates."""
    out: dict[str, list[Candidate]] = {}
    for r in records:
        attrs = r["attributes"]
        seen = attrs.get("updated_at") or attrs.get("created_at") or {}
        observed = seen.get("value") or r["last_seen"].isoformat()
        for name, a in attrs.items():
            if a.get("value") is None:
                continue
            out.setdefault(name, []).append(
                Candidate(
                    value=str(a["value"]),
                    match=a.get("match"),
                    source=r["source"],
                    source_key=r["source_key"],
                    observed_at=str(observed),
                    trust_rank=ranks.get(r["source"], 100),
                    flags=tuple(a.get("flags", ())),
                )
            )
    return out


def survivorship_rules(config: UCPConfig | None) -> dict[str, tuple[str, ...]]:
    rules = dict(DEFAULT_RULES)
    if config is not None:
        rules.update({k: tuple(v) for k, v in config.survivorship.rules.items()})
    return rules


def pin_candidates(pins: list[dict[str, Any]]) -> dict[str, Candidate]:
    out: dict[str, Candidate] = {}
    for pin in pins:  # newest first: the newest pin of an attribute wins
        out.setdefault(
            pin["attribute"],
            Candidate(
                value=pin["value"],
                match=None,
                source="steward",
                source_key=pin["actor"],
                observed_at=pin["created_at"].isoformat(),
                trust_rank=0,
            ),
        )
    return out


def get_profile(
    store: Store, profile_id: str, config: UCPConfig | None = None, as_of: datetime | None = None
) -> ProfileView:
    """The profile for an id or a retired alias — as it is now, or as the store knew it `as_of`."""
    with store.read() as tx:
        if as_of is None:
            bundle, redirected = tx.profile_bundle(profile_id, EVENT_LIMIT), False
            if bundle is None:  # an alias of a merged profile, or unknown
                resolved = tx.resolve_profile_id(profile_id)
                if resolved is None:
                    raise NotFound(f"no profile {profile_id!r}")
                bundle, redirected = tx.profile_bundle(resolved[0], EVENT_LIMIT), True
                if bundle is None:
                    raise NotFound(f"no profile {profile_id!r}")
            row, ranks, records = bundle["row"], bundle["ranks"], bundle["records"]
            pid = row["id"]
            idents, events, pins = bundle["identifiers"], bundle["events"], bundle["pins"]
            if config is not None and config.traits:
                # windowed and derived traits are evaluated at read time (services.traits)
                traits = profile_traits(tx, pid, config)
            else:
                values, updated = bundle["traits"]
                traits = {"values": values, "updated_at": updated}
        else:
            ranks = tx.source_ranks()
            pid, redirected, row, records = _locate(tx, profile_id, as_of)
            record_ids = [r["id"] for r in records]
            idents = []
            events = tx.profile_events(record_ids, EVENT_LIMIT, received_before=as_of)
            pins = tx.pins([pid, *tx.aliases_of(pid)], at=as_of)
            traits = {}
    by_record: dict[int, list[dict[str, Any]]] = {}
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for ident in idents:
        by_record.setdefault(ident["record_id"], []).append(
            {"type": ident["type"], "value": ident["value"]}
        )
        entry = merged.setdefault(
            (ident["type"], ident["value"]),
            {"type": ident["type"], "value": ident["value"], "linkable": False, "records": 0},
        )
        entry["linkable"] = entry["linkable"] or ident["linkable"]
        entry["records"] += 1
    golden = golden_record(
        candidates_of(records, ranks), survivorship_rules(config), pin_candidates(pins)
    )
    return ProfileView(
        id=pid,
        redirected_from=profile_id if redirected else None,
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        as_of=as_of,
        golden={name: value.to_dict() for name, value in golden.items()},
        identifiers=[merged[k] for k in sorted(merged)],
        records=[
            {
                "source": r["source"],
                "source_key": r["source_key"],
                "version": r["version"],
                "first_seen": r["first_seen"],
                "last_seen": r["last_seen"],
                "attributes": {
                    name: {"value": a.get("value"), "flags": a.get("flags", [])}
                    for name, a in r["attributes"].items()
                },
                "identifiers": sorted(
                    by_record.get(r["id"], []), key=lambda i: (i["type"], i["value"])
                ),
            }
            for r in records
        ],
        traits=traits,
        events=[
            {
                "source": e["source"],
                "key": e["event_key"],
                "name": e["name"],
                "occurred_at": e["occurred_at"],
                "received_at": e["received_at"],
                "properties": e["properties"],
            }
            for e in events
        ],
    )


def _locate(
    tx: StoreTx, profile_id: str, as_of: datetime | None
) -> tuple[str, bool, dict[str, Any], list[dict[str, Any]]]:
    """`(live id, redirected, profile row, records)` now or at `as_of`."""
    if as_of is not None:
        records = tx.records_as_of(profile_id, as_of)
        if records:
            first = min(r["first_seen"] for r in records)
            last = max(r["last_seen"] for r in records)
            return profile_id, False, {"created_at": first, "updated_at": last}, records
    located = tx.locate_profile(profile_id)
    if located is None:
        raise NotFound(f"no profile {profile_id!r}")
    row, redirected = located
    pid = row["id"]
    if as_of is None:
        return pid, redirected, row, tx.profile_records(pid)
    records = tx.records_as_of(pid, as_of)
    if not records:
        raise NotFound(f"profile {profile_id!r} held no records at {as_of.isoformat()}")
    return pid, redirected, row, records


def pin_attribute(
    store: Store,
    profile_id: str,
    attribute: str,
    value: str | None,
    actor: str,
    request_id: str | None = None,
) -> str:
    """Pin (or, with value None, unpin) a golden value; returns the live profile id."""
    if attribute not in CANONICAL_ATTRIBUTES:
        raise InputError(f"unknown canonical attribute {attribute!r}", field="attribute")
    at = now()
    with store.write() as tx:
        resolved = tx.resolve_profile_id(profile_id)
        if resolved is None:
            raise NotFound(f"no profile {profile_id!r}")
        pid = resolved[0]
        if value is None:
            if not tx.unpin(pid, attribute, at):
                raise NotFound(f"no pin on {attribute!r} of profile {pid}")
            audit.record(tx, actor, "attribute.unpinned", pid, request_id, {"attribute": attribute})
        else:
            tx.add_pin(pid, attribute, value, actor, at)
            audit.record(tx, actor, "attribute.pinned", pid, request_id, {"attribute": attribute})
            tx.add_change("profile.updated", pid, {"attributes": [attribute], "pinned": True}, at)
    return pid


def profile_history(store: Store, profile_id: str, limit: int = 500) -> dict[str, Any]:
    """The changes that shaped a profile, including those of ids merged into it."""
    with store.read() as tx:
        resolved = tx.resolve_profile_id(profile_id)
        if resolved is None:
            raise NotFound(f"no profile {profile_id!r}")
        pid = resolved[0]
        ids = [pid, *tx.aliases_of(pid)]
        rows = tx.profile_changes(ids, limit)
    return {
        "id": pid,
        "aliases": ids[1:],
        "changes": [
            {
                "seq": r["seq"],
                "type": r["type"],
                "profile_id": r["profile_id"],
                "occurred_at": r["occurred_at"],
                "data": r["data"],
            }
            for r in rows
        ],
    }


def parse_identifier(text: str) -> tuple[str, str]:
    """`type:value` (the value may itself contain colons)."""
    id_type, sep, value = text.partition(":")
    if not sep or not id_type or not value:
        raise InputError(
            "identifier must look like TYPE:VALUE, e.g. email:ann@example.com",
            field="identifier",
        )
    return id_type.strip(), value


def find_by_identifier(store: Store, config: UCPConfig, text: str) -> list[str]:
    """Profile ids holding the identifier, the value standardized the way ingest does."""
    ident = _standardized_identifier(config, text)
    if ident is None:
        return []
    with store.read() as tx:
        return tx.profiles_by_identifier(ident[0], ident[1])


def lookup_profiles(store: Store, config: UCPConfig, text: str) -> list[dict[str, Any]]:
    """Rows (id, created_at, updated_at, record_count) of the profiles holding the identifier:
    `find_by_identifier` and the rows in one query (the API's hot lookup)."""
    ident = _standardized_identifier(config, text)
    if ident is None:
        return []
    with store.read() as tx:
        return tx.profile_rows_by_identifier(ident[0], ident[1])


def _standardized_identifier(config: UCPConfig, text: str) -> tuple[str, str, bool] | None:
    id_type, raw = parse_identifier(text)
    if id_type not in config.identifiers:
        known = ", ".join(sorted(config.identifiers))
        raise InputError(
            f"unknown identifier type {id_type!r} (known: {known})", field="identifier"
        )
    return IdentifierStandardizer(config).identifier(id_type, raw, None)


def search_profiles(
    store: Store, text: str, cursor: str | None, limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    """Profiles whose names, emails or phones start with the query's words, in id order."""
    if not 1 <= limit <= 1000:
        raise InputError("limit must be between 1 and 1000", field="limit")
    conditions = parse_query(text)
    if not conditions or any(len(prefix) < 2 for _, prefix in conditions):
        raise InputError("search needs at least two letters or digits per word", field="q")
    with store.read() as tx:
        ids = tx.search_profiles(conditions, cursor, limit + 1)
        rows = [row for pid in ids[:limit] if (row := tx.profile_row(pid))]
    return rows, (ids[limit - 1] if len(ids) > limit else None)


def list_profiles(
    store: Store, cursor: str | None, limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of profiles in id order and the cursor of the next page (None at the end)."""
    if not 1 <= limit <= 1000:
        raise InputError("limit must be between 1 and 1000", field="limit")
    with store.read() as tx:
        rows = tx.list_profiles(cursor, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1]["id"] if more and rows else None)
