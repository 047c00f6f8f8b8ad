"""Stewardship: a steward's merge or split becomes a constraint every later resolution respects.

Merging profiles adds must-links between them; splitting records out adds cannot-links between
the records that leave and those that stay (and must-links among the leavers, so they stay one
person). Each decision is audited with its actor and can be revoked, which re-resolves the
records it touched.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ucp.config import UCPConfig
from ucp.domain.model import RecordKey
from ucp.errors import Conflict, InputError, NotFound
from ucp.services import audit
from ucp.services.resolution import build_resolver, resolve_touched
from ucp.store.store import Store, StoreTx, now

MAX_SPLIT_PAIRS = 10_000


@dataclass(frozen=True, slots=True)
class StewardResult:
    constraint_ids: list[int]
    profile_ids: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {"constraint_ids": self.constraint_ids, "profile_ids": self.profile_ids}


def parse_record_key(text: str) -> RecordKey:
    source, sep, key = text.partition(":")
    if not sep or not source or not key:
        raise InputError(
            f"record must look like SOURCE:KEY, got {text.split(':')[0]!r}…", field="records"
        )
    return RecordKey(source, key)


def _profile_records(tx: StoreTx, profile_id: str) -> tuple[str, list[RecordKey]]:
    resolved = tx.resolve_profile_id(profile_id)
    if resolved is None:
        raise NotFound(f"no profile {profile_id!r}")
    pid = resolved[0]
    return pid, sorted(RecordKey(r["source"], r["source_key"]) for r in tx.profile_records(pid))


def _live_profiles(tx: StoreTx, keys: Sequence[RecordKey]) -> list[str]:
    ids = tx.record_ids(keys)
    owners = {pid for _, pid in tx.resolvable(ids.values()).values() if pid}
    return sorted(owners)


def merge(
    store: Store,
    config: UCPConfig,
    profile_ids: Sequence[str],
    actor: str,
    reason: str | None = None,
    request_id: str | None = None,
) -> StewardResult:
    """Make several profiles one person, for good."""
    if len(set(profile_ids)) < 2:
        raise InputError("give at least two different profile ids", field="profile_ids")
    at = now()
    with store.write() as tx:
        anchors: list[RecordKey] = []
        live: list[str] = []
        for given in profile_ids:
            pid, keys = _profile_records(tx, given)
            if pid in live:
                continue
            live.append(pid)
            anchors.append(keys[0])
        if len(live) < 2:
            raise Conflict("those ids already name one profile")
        created = []
        for a, b in zip(anchors, anchors[1:], strict=False):
            tx.revoke_constraints_between("cannot_link", a, b, actor, at)
            created.append(tx.add_constraint("must_link", a, b, actor, reason, at))
        audit.record(
            tx,
            actor,
            "profile.merge_requested",
            ",".join(live),
            request_id,
            {"constraints": created, "reason": reason},
        )
        ids = tx.record_ids(anchors)
        resolve_touched(tx, build_resolver(config, tx), ids.values(), at)
        result = _live_profiles(tx, anchors)
    return StewardResult(created, result)


def split(
    store: Store,
    config: UCPConfig,
    profile_id: str,
    records: Sequence[str],
    actor: str,
    reason: str | None = None,
    request_id: str | None = None,
) -> StewardResult:
    """Move records out of a profile into a profile of their own."""
    leaving = sorted({parse_record_key(r) for r in records})
    if not leaving:
        raise InputError("give at least one record to move out", field="records")
    at = now()
    with store.write() as tx:
        pid, members = _profile_records(tx, profile_id)
        missing = [str(k) for k in leaving if k not in members]
        if missing:
            raise InputError(
                f"{len(missing)} of the records are not in profile {pid}",
                field="records",
                records=missing[:20],
            )
        staying = [k for k in members if k not in set(leaving)]
        if not staying:
            raise Conflict("a split must leave at least one record in the profile")
        if len(leaving) * len(staying) > MAX_SPLIT_PAIRS:
            raise InputError(
                f"split too large: at most {MAX_SPLIT_PAIRS} record pairs", field="records"
            )
        created = []
        for a in leaving:
            for b in staying:
                tx.revoke_constraints_between("must_link", a, b, actor, at)
                created.append(tx.add_constraint("cannot_link", a, b, actor, reason, at))
        for a, b in zip(leaving, leaving[1:], strict=False):
            tx.revoke_constraints_between("cannot_link", a, b, actor, at)
            created.append(tx.add_constraint("must_link", a, b, actor, reason, at))
        audit.record(
            tx,
            actor,
            "profile.split_requested",
            pid,
            request_id,
            {"constraints": len(created), "records": len(leaving), "reason": reason},
        )
        ids = tx.record_ids(members)
        resolve_touched(tx, build_resolver(config, tx), ids.values(), at)
        result = _live_profiles(tx, members)
    return StewardResult(created, result)


def revoke(
    store: Store, config: UCPConfig, constraint_id: int, actor: str, request_id: str | None = None
) -> StewardResult:
    """Withdraw a steward decision; the records it touched are resolved again without it."""
    at = now()
    with store.write() as tx:
        row = tx.revoke_constraint(constraint_id, actor, at)
        if row is None:
            raise NotFound(f"no active constraint {constraint_id}")
        keys = [RecordKey(row["source_a"], row["key_a"]), RecordKey(row["source_b"], row["key_b"])]
        audit.record(
            tx, actor, "constraint.revoked", str(constraint_id), request_id, {"kind": row["kind"]}
        )
        ids = tx.record_ids(keys)
        # re-resolve each side's old component: a revoked must-link may split them again
        resolve_touched(tx, build_resolver(config, tx), ids.values(), at)
        result = _live_profiles(tx, keys)
    return StewardResult([constraint_id], result)


def list_constraints(
    store: Store, active_only: bool = True, limit: int = 100
) -> list[dict[str, Any]]:
    with store.read() as tx:
        return tx.list_constraints(active_only, limit)
