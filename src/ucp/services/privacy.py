"""Data subject requests (access, erasure, rectification) and the audited, masked profile read.

A request is recorded in `privacy_requests`, carried out at once (an erasure of a profile with a
thousand events takes well under a second) and audited. The subject is a profile id or a
`TYPE:VALUE` identifier (standardized like ingest).

- access: a complete machine-readable export — golden record with provenance, every record
  version, events, consent history, traits, links, memberships, changes and the audit entries
  about the person — as JSON, or a zip with the JSON and one CSV per table.
- erasure: `services.erasure` (what goes, what stays, and why).
- rectification: each corrected value becomes a steward pin on the profile, which outranks every
  survivorship rule until a steward unpins it.
"""

from __future__ import annotations

import csv
import io
import secrets
import time
import zipfile
from collections.abc import Callable
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import insert, or_, select, update

from ucp.config import UCPConfig
from ucp.domain.attributes import CANONICAL_ATTRIBUTES
from ucp.domain.masking import mask_attribute, mask_document, mask_identifier, mask_profile
from ucp.errors import Conflict, InputError, NotFound
from ucp.services import audit, consent
from ucp.services.erasure import erase_in, standardized_identifier
from ucp.services.profiles import get_profile
from ucp.store import tables as t
from ucp.store.store import Store, StoreTx, now

REQUEST_TYPES = ("access", "erasure", "rectification")


# -- the audited read --------------------------------------------------------------------------
def read_profile(
    store: Store,
    config: UCPConfig,
    profile_id: str,
    actor: str,
    *,
    pii: bool = True,
    purpose: str | None = None,
    as_of: datetime | None = None,
    request_id: str | None = None,
    audit_sink: Callable[..., None] | None = None,
) -> dict[str, Any]:
    """One profile for a reader: consent-checked for `purpose`, audited (one insert in a short
    write transaction, or queued to `audit_sink`, e.g. the API's `audit.AuditBuffer.add`),
    masked when the reader may not see personal data."""
    if purpose is not None:
        with store.read() as tx:
            resolved = tx.resolve_profile_id(profile_id)
            if resolved is None:
                raise NotFound(f"no profile {profile_id!r}")
            consent.require_purpose(tx, config, resolved[0], purpose)
    view = get_profile(store, profile_id, config, as_of).to_dict()
    details: dict[str, Any] = {"masked": not pii}
    if purpose is not None:
        details["purpose"] = purpose
    if audit_sink is not None:
        audit_sink(actor, "profile.read", view["id"], request_id, details)
    else:
        with store.write() as tx:
            audit.record(tx, actor, "profile.read", view["id"], request_id, details)
    return view if pii else mask_profile(view)


def mask_for_profile(store: Store, profile_id: str, doc: Any) -> Any:
    """Mask any answer about one profile for a reader without PII access: every identifier,
    record key and personal attribute value of the profile is replaced wherever it appears."""
    known: dict[str, str] = {}
    with store.read() as tx:
        resolved = tx.resolve_profile_id(profile_id)
        if resolved is not None:
            records = tx.profile_records(resolved[0])
            for ident in tx.record_identifiers([r["id"] for r in records]):
                known[ident["value"]] = mask_identifier(ident["type"], ident["value"])
            for r in records:
                known[r["source_key"]] = mask_identifier("", r["source_key"])
                for name, a in (r["attributes"] or {}).items():
                    for v in (a.get("raw"), a.get("value")) if isinstance(a, dict) else ():
                        if isinstance(v, str) and mask_attribute(name, v) != v:
                            known[v] = str(mask_attribute(name, v))
    return mask_document(doc, known)


# -- requests ----------------------------------------------------------------------------------
def _view(row: dict[str, Any]) -> dict[str, Any]:
    result = {k: v for k, v in (row["result"] or {}).items() if k != "export"}
    return {
        "id": row["id"],
        "type": row["type"],
        "status": row["status"],
        "subject": row["subject"],
        "actor": row["actor"],
        "created_at": row["created_at"],
        "completed_at": row["completed_at"],
        "result": result,
        "export_available": bool((row["result"] or {}).get("export")),
    }


def _row(tx: StoreTx, request_id: str) -> dict[str, Any]:
    pr = t.privacy_requests.c
    row = tx.conn.execute(select(t.privacy_requests).where(pr.id == request_id)).mappings().first()
    if row is None:
        raise NotFound(f"no privacy request {request_id!r}")
    return dict(row)


def get_request(store: Store, request_id: str) -> dict[str, Any]:
    with store.read() as tx:
        return _view(_row(tx, request_id))


def request_export(store: Store, request_id: str) -> dict[str, Any]:
    """The export of a completed access request (gone once the person was erased)."""
    with store.read() as tx:
        row = _row(tx, request_id)
    export = (row["result"] or {}).get("export")
    if row["type"] != "access":
        raise Conflict(f"request {request_id} is an {row['type']} request, not access")
    if not export:
        raise NotFound(f"request {request_id} has no export (the subject was erased since)")
    return dict(export)


def create_request(
    store: Store,
    config: UCPConfig,
    type_: str,
    subject: str,
    actor: str,
    *,
    secret: bytes | None = None,
    changes: dict[str, str] | None = None,
    request_id: str | None = None,
) -> dict[str, Any]:
    """Record a data subject request and carry it out; returns its status view."""
    if type_ not in REQUEST_TYPES:
        raise InputError(f"type must be one of {', '.join(REQUEST_TYPES)}", field="type")
    subject = subject.strip()
    if not subject:
        raise InputError("give a subject: a profile id or TYPE:VALUE", field="subject")
    if not subject.startswith("p_"):
        standardized_identifier(config, subject)  # fail early on a malformed identifier
    dsr_id = f"dsr_{secrets.token_hex(8)}"
    if type_ == "erasure":
        return _erasure(store, config, dsr_id, subject, actor, secret, request_id)
    if type_ == "access":
        return _access(store, config, dsr_id, subject, actor, request_id)
    return _rectification(store, config, dsr_id, subject, actor, changes or {}, request_id)


def _insert(tx: StoreTx, dsr_id: str, type_: str, subject: str, actor: str, at: datetime) -> None:
    tx.conn.execute(
        insert(t.privacy_requests),
        {
            "id": dsr_id,
            "type": type_,
            "subject": subject,
            "status": "processing",
            "actor": actor,
            "created_at": at,
            "result": {},
        },
    )


def _finish(
    tx: StoreTx, dsr_id: str, result: dict[str, Any], subject: str | None = None
) -> dict[str, Any]:
    values: dict[str, Any] = {"status": "completed", "completed_at": now(), "result": result}
    if subject is not None:
        values["subject"] = subject
    tx.conn.execute(
        update(t.privacy_requests).where(t.privacy_requests.c.id == dsr_id).values(**values)
    )
    return _view(_row(tx, dsr_id))


def _erasure(
    store: Store,
    config: UCPConfig,
    dsr_id: str,
    subject: str,
    actor: str,
    secret: bytes | None,
    request_id: str | None,
) -> dict[str, Any]:
    from ucp.domain.audit import tombstone_subject

    started = time.perf_counter()
    at = now()
    with store.write() as tx:
        _insert(tx, dsr_id, "erasure", subject, actor, at)
        audit.record(
            tx, actor, "privacy.requested", f"dsr:{dsr_id}", request_id, {"type": "erasure"}
        )
        report = erase_in(tx, config, subject, secret, actor, dsr_id, request_id, at)
        report.seconds = round(time.perf_counter() - started, 4)
        kept_subject = subject if subject.startswith("p_") else tombstone_subject(subject)
        return _finish(tx, dsr_id, {"erasure": report.to_dict()}, kept_subject)


def _access(
    store: Store, config: UCPConfig, dsr_id: str, subject: str, actor: str, request_id: str | None
) -> dict[str, Any]:
    at = now()
    export = access_export(store, config, subject, dsr_id)
    with store.write() as tx:
        _insert(tx, dsr_id, "access", subject, actor, at)
        audit.record(
            tx, actor, "privacy.requested", f"dsr:{dsr_id}", request_id, {"type": "access"}
        )
        profiles = [p["id"] for p in export["profiles"]]
        for pid in profiles:
            audit.record(tx, actor, "profile.exported", pid, request_id, {"request": dsr_id})
        return _finish(tx, dsr_id, {"profiles": profiles, "export": export})


def _rectification(
    store: Store,
    config: UCPConfig,
    dsr_id: str,
    subject: str,
    actor: str,
    changes: dict[str, str],
    request_id: str | None,
) -> dict[str, Any]:
    if not changes:
        raise InputError(
            "a rectification needs changes: {attribute: corrected value}", field="changes"
        )
    unknown = sorted(a for a in changes if a not in CANONICAL_ATTRIBUTES)
    if unknown:
        raise InputError(f"unknown canonical attribute {unknown[0]!r}", field="changes")
    at = now()
    with store.write() as tx:
        pids = _profiles_of_subject(tx, config, subject)
        if len(pids) != 1:
            raise Conflict(
                f"the subject names {len(pids)} profiles; rectify one profile id at a time"
            )
        pid = pids[0]
        _insert(tx, dsr_id, "rectification", subject, actor, at)
        audit.record(
            tx, actor, "privacy.requested", f"dsr:{dsr_id}", request_id, {"type": "rectification"}
        )
        for attribute, value in sorted(changes.items()):
            tx.add_pin(pid, attribute, str(value), f"dsr:{dsr_id}", at)
            audit.record(
                tx,
                actor,
                "attribute.pinned",
                pid,
                request_id,
                {"attribute": attribute, "request": dsr_id},
            )
        tx.add_change("profile.updated", pid, {"attributes": sorted(changes), "pinned": True}, at)
        return _finish(tx, dsr_id, {"profiles": [pid], "rectified": sorted(changes)})


def _profiles_of_subject(tx: StoreTx, config: UCPConfig, subject: str) -> list[str]:
    if subject.startswith("p_"):
        resolved = tx.resolve_profile_id(subject)
        if resolved is None:
            raise NotFound(f"no profile {subject!r}")
        return [resolved[0]]
    typ, value = standardized_identifier(config, subject)
    return tx.profiles_by_identifier(typ, value)


# -- the access export -------------------------------------------------------------------------
def access_export(
    store: Store, config: UCPConfig, subject: str, request: str | None = None
) -> dict[str, Any]:
    """Everything ucp holds about the subject, as one JSON-ready document."""
    with store.read() as tx:
        pids = _profiles_of_subject(tx, config, subject)
    profiles = [_profile_export(store, config, pid) for pid in pids]
    return {
        "request": request,
        "subject": subject,
        "generated_at": now().isoformat(),
        "profiles": _jsonable(profiles),
    }


def _profile_export(store: Store, config: UCPConfig, pid: str) -> dict[str, Any]:
    view = get_profile(store, pid, config).to_dict()
    with store.read() as tx:
        aliases = tx.aliases_of(pid)
        records = tx.profile_records(pid)
        rids = [r["id"] for r in records]
        keys = tx.record_keys(rids)
        rv = t.record_versions.c
        versions: dict[int, list[dict[str, Any]]] = {}
        for row in tx.conn.execute(
            select(t.record_versions)
            .where(rv.record_id.in_(rids))
            .order_by(rv.record_id, rv.version)
        ).mappings():
            versions.setdefault(row["record_id"], []).append(
                {k: row[k] for k in ("version", "valid_from", "valid_to", "raw", "attributes")}
            )
        idents = tx.record_identifiers(rids)
        events = tx.profile_event_rows([pid]).get(pid, [])
        lc = t.links.c
        link_rows = [
            dict(r)
            for r in tx.conn.execute(
                select(t.links).where(or_(lc.record_a.in_(rids), lc.record_b.in_(rids)))
            ).mappings()
        ]
        mc = t.memberships.c
        memberships = [
            dict(r)
            for r in tx.conn.execute(
                select(t.memberships).where(mc.record_id.in_(rids)).order_by(mc.id)
            ).mappings()
        ]
        traits, traits_at = tx.traits_of(pid)
        changes = tx.profile_changes([pid, *aliases], 10_000)
        ac = t.audit_log.c
        audit_rows = [
            {
                k: r[k]
                for k in (
                    "id",
                    "occurred_at",
                    "actor",
                    "action",
                    "subject",
                    "request_id",
                    "details",
                )
            }
            for r in tx.conn.execute(
                select(t.audit_log).where(ac.subject.in_([pid, *aliases])).order_by(ac.id)
            ).mappings()
        ]
    other = {
        rid: keys.get(rid)
        for rid in {lr["record_a"] for lr in link_rows} | {lr["record_b"] for lr in link_rows}
    }
    with store.read() as tx:
        other.update(tx.record_keys([rid for rid, k in other.items() if k is None]))
    return {
        "id": pid,
        "aliases": aliases,
        "created_at": view["created_at"],
        "updated_at": view["updated_at"],
        "golden": view["golden"],
        "identifiers": view["identifiers"],
        "records": [
            {
                "source": r["source"],
                "source_key": r["source_key"],
                "current_version": r["version"],
                "first_seen": r["first_seen"],
                "last_seen": r["last_seen"],
                "identifiers": sorted(
                    (
                        {"type": i["type"], "value": i["value"], "linkable": i["linkable"]}
                        for i in idents
                        if i["record_id"] == r["id"]
                    ),
                    key=lambda i: (i["type"], i["value"]),
                ),
                "versions": versions.get(r["id"], []),
            }
            for r in records
        ],
        "events": sorted(
            (
                {
                    "source": e["source"],
                    "key": e["event_key"],
                    "name": e["name"],
                    "occurred_at": e["occurred_at"],
                    "received_at": e["received_at"],
                    "properties": e["properties"],
                }
                for e in events
            ),
            key=lambda e: (str(e["occurred_at"]), e["source"], e["key"]),
        ),
        "consent": consent.profile_consent(store, config, pid),
        "traits": {"values": traits, "updated_at": traits_at},
        "links": [
            {
                "a": str(other.get(lr["record_a"]) or lr["record_a"]),
                "b": str(other.get(lr["record_b"]) or lr["record_b"]),
                "kind": lr["kind"],
                "weight": lr["weight"],
                "evidence": lr["evidence"],
                "model_version": lr["model_version"],
                "created_at": lr["created_at"],
                "valid_to": lr["valid_to"],
            }
            for lr in link_rows
        ],
        "memberships": [
            {
                "record": str(keys.get(m["record_id"], m["record_id"])),
                "profile_id": m["profile_id"],
                "valid_from": m["valid_from"],
                "valid_to": m["valid_to"],
            }
            for m in memberships
        ],
        "changes": changes,
        "audit": audit_rows,
    }


def _jsonable(doc: Any) -> Any:
    return orjson.loads(orjson.dumps(doc, default=str, option=orjson.OPT_NON_STR_KEYS))


_CSV_TABLES = ("records", "identifiers", "events", "links", "memberships", "changes", "audit")


def export_zip(export: dict[str, Any]) -> bytes:
    """The export as a zip: `export.json` and one CSV per table (nested values as JSON)."""
    tables: dict[str, list[dict[str, Any]]] = {name: [] for name in _CSV_TABLES}
    tables.update(
        {"profiles": [], "golden": [], "record_versions": [], "consent": [], "traits": []}
    )
    for p in export["profiles"]:
        pid = p["id"]
        tables["profiles"].append(
            {
                "profile_id": pid,
                "aliases": p["aliases"],
                "created_at": p["created_at"],
                "updated_at": p["updated_at"],
            }
        )
        for attr, g in p["golden"].items():
            prov = g.get("provenance") or {}
            tables["golden"].append(
                {
                    "profile_id": pid,
                    "attribute": attr,
                    "value": g.get("value"),
                    "rule": g.get("rule"),
                    "source": prov.get("source"),
                    "record": prov.get("record"),
                    "observed_at": prov.get("observed_at"),
                }
            )
        for r in p["records"]:
            base = {"profile_id": pid, "source": r["source"], "source_key": r["source_key"]}
            tables["records"].append(
                {**base, **{k: r[k] for k in ("current_version", "first_seen", "last_seen")}}
            )
            tables["identifiers"].extend({**base, **i} for i in r["identifiers"])
            tables["record_versions"].extend({**base, **v} for v in r["versions"])
        for name in ("events", "links", "memberships", "changes", "audit"):
            tables[name].extend({"profile_id": pid, **row} for row in p[name])
        tables["consent"].extend({"profile_id": pid, **h} for h in p["consent"]["history"])
        tables["traits"].extend(
            {"profile_id": pid, "trait": k, "value": v} for k, v in p["traits"]["values"].items()
        )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("export.json", orjson.dumps(export, default=str, option=orjson.OPT_INDENT_2))
        for name, rows in sorted(tables.items()):
            zf.writestr(f"{name}.csv", _csv(rows))
    return buffer.getvalue()


def _csv(rows: list[dict[str, Any]]) -> str:
    columns: list[str] = []
    for row in rows:
        columns.extend(k for k in row if k not in columns)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    return out.getvalue()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return orjson.dumps(value, default=str).decode()
    return str(value)
