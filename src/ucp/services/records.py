"""A source retracts records: the incremental path re-clusters what they held together.

Deleting a record is not an erasure (see `services.erasure` for a data subject's request): the
record's history stays for `as_of` and audits, but from now on it is not evidence. Its
identifiers, search terms and blocking keys go, its links end, and the records that were in its
profile are re-clustered — a record that bridged two people leaves two profiles behind. The
partition afterwards is exactly the one a batch `ucp resolve` over the remaining records gives.
Ingesting the same source key again brings the record back as a new version.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from ucp.config import UCPConfig
from ucp.domain.model import RecordKey
from ucp.errors import InputError, NotFound
from ucp.services import audit
from ucp.services.erasure import drop_profiles, recompute_traits, records_of_profiles
from ucp.services.resolution import build_resolver, resolve_touched
from ucp.services.steward import parse_record_key
from ucp.store.store import Store, now

MAX_RECORDS = 10_000


@dataclass(slots=True)
class DeleteReport:
    """What a deletion changed (keys and profile ids only: no personal values)."""

    records: int = 0
    profiles_updated: list[str] = field(default_factory=list)
    profiles_deleted: list[str] = field(default_factory=list)
    profiles_after: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def delete_records(
    store: Store,
    config: UCPConfig,
    records: Sequence[str],
    actor: str,
    request_id: str | None = None,
) -> DeleteReport:
    """Retract records given as `SOURCE:KEY`; all or nothing (an unknown key changes nothing)."""
    keys = sorted({parse_record_key(r) for r in records})
    if not keys:
        raise InputError("give at least one record, SOURCE:KEY", field="records")
    if len(keys) > MAX_RECORDS:
        raise InputError(f"at most {MAX_RECORDS} records per request", field="records")
    at = now()
    report = DeleteReport(records=len(keys))
    with store.write() as tx:
        found = tx.record_ids(keys)
        missing = [k for k in keys if k not in found]
        if missing:
            raise NotFound(
                f"{len(missing)} of the {len(keys)} records do not exist or are already deleted",
                records=[_key(k) for k in missing[:20]],
            )
        resolver = build_resolver(config, tx)
        doomed = set(found.values())
        # everything resolved together with the doomed records: without them a group may
        # fall apart, and records a doomed one kept apart may now join
        group = resolver.component(tx, doomed)
        owners = tx.retract_records(sorted(doomed), at)
        before = {pid for pid in owners.values() if pid}
        survivors = sorted((group | set(records_of_profiles(tx, before))) - doomed)
        if survivors:
            resolve_touched(tx, resolver, survivors, at)
        after = {pid for _, pid in tx.resolvable(survivors).values() if pid}
        kept = sorted(before & after)
        gone = sorted(before - after)
        aliases = {a for pid in gone for a in tx.aliases_of(pid)}
        drop_profiles(tx, gone, aliases)
        for pid in gone:
            tx.add_change("profile.deleted", pid, {"records_deleted": True}, at)
        for pid in kept:
            tx.add_change("profile.updated", pid, {"records_deleted": True}, at)
        recompute_traits(tx, config, set(kept), at)
        report.profiles_updated, report.profiles_deleted = kept, gone
        report.profiles_after = sorted(after)
        audit.record(
            tx,
            actor,
            "records.deleted",
            ",".join(sorted({k.source for k in keys})),
            request_id,
            {"records": [_key(k) for k in keys[:100]], **report.to_dict()},
        )
    return report


def _key(key: RecordKey) -> str:
    return f"{key.source}:{key.source_key}"
