"""Retention: delete what outlived its period (`retention:` in ucp.yaml).

- records of a source whose last version arrived longer ago than the source's period go, with
  every version, identifier and link; the profiles they were in re-cluster, and a profile left
  with no record goes too (`profile.erased`, reason `retention`, in the change feed);
- events older than their name's period (else their source's) go, judged by when they happened
  (or were received, when the event has no time).

`apply_retention(store, config, now)` is what `ucp retention apply` runs and what an embedded
worker can call once a day. Each batch is one transaction; the run is audited.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select

from ucp.config import UCPConfig
from ucp.domain.retention import RetentionPolicy, parse_period
from ucp.services import audit
from ucp.services.erasure import (
    delete_records,
    drop_profiles,
    profile_of,
    recompute_traits,
    records_of_profiles,
)
from ucp.services.resolution import build_resolver, opened_blocks, resolve_touched
from ucp.store import tables as t
from ucp.store.store import Store, StoreTx
from ucp.store.store import now as _now

BATCH = 1000


@dataclass(slots=True)
class RetentionReport:
    records: int = 0
    events: int = 0
    profiles_erased: int = 0
    seconds: float = 0.0
    dry_run: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__}  # type: ignore[attr-defined]


def policy_of(config: UCPConfig) -> RetentionPolicy:
    return RetentionPolicy(
        sources={k: parse_period(v) for k, v in config.retention.sources.items()},
        events={k: parse_period(v) for k, v in config.retention.events.items()},
    )


def _expired_events(tx: StoreTx, policy: RetentionPolicy, at: datetime) -> list[int]:
    e = t.events.c
    when = func.coalesce(e.occurred_at, e.received_at)
    found: set[int] = set()
    named = sorted(policy.events)
    for name in named:
        cutoff = policy.event_cutoff("", name, at)
        found.update(
            eid for (eid,) in tx.conn.execute(select(e.id).where(e.name == name, when < cutoff))
        )
    for source in sorted(policy.sources):
        cutoff = policy.record_cutoff(source, at)
        stmt = select(e.id).where(e.source == source, when < cutoff)
        if named:
            stmt = stmt.where(e.name.not_in(named))
        found.update(eid for (eid,) in tx.conn.execute(stmt))
    return sorted(found)


def _expired_records(tx: StoreTx, policy: RetentionPolicy, at: datetime) -> list[int]:
    r = t.records.c
    found: list[int] = []
    for source in sorted(policy.sources):
        cutoff = policy.record_cutoff(source, at)
        found.extend(
            rid
            for (rid,) in tx.conn.execute(
                select(r.id).where(r.source == source, r.last_seen < cutoff)
            )
        )
    return sorted(found)


def apply_retention(
    store: Store,
    config: UCPConfig,
    now: datetime | None = None,
    dry_run: bool = False,
    actor: str = "retention",
) -> RetentionReport:
    """Delete every record and event whose retention period has passed at `now`."""
    started = time.perf_counter()
    at = now or _now()
    policy = policy_of(config)
    report = RetentionReport(dry_run=dry_run)
    if policy.empty:
        return report
    with store.read() as tx:
        events = _expired_events(tx, policy, at)
        records = _expired_records(tx, policy, at)
    report.events, report.records = len(events), len(records)
    if dry_run:
        report.seconds = round(time.perf_counter() - started, 3)
        return report
    for i in range(0, len(events), BATCH):
        ids = events[i : i + BATCH]
        with store.write() as tx:
            tx.conn.execute(
                delete(t.event_identifiers).where(t.event_identifiers.c.event_id.in_(ids))
            )
            tx.conn.execute(delete(t.events).where(t.events.c.id.in_(ids)))
    for i in range(0, len(records), BATCH):
        with store.write() as tx:
            report.profiles_erased += _expire_records(tx, config, records[i : i + BATCH], at)
    with store.write() as tx:
        audit.record(tx, actor, "retention.applied", None, None, report.to_dict())
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def _expire_records(tx: StoreTx, config: UCPConfig, ids: list[int], at: datetime) -> int:
    profiles = {p for p in profile_of(tx, ids).values() if p}
    keys_before = tx.blocking_keys_of(ids)
    delete_records(tx, ids, set(tx.record_keys(ids).values()))
    resolver = build_resolver(config, tx)
    # with the holders of a block the expired records kept too big to pair
    survivors = sorted(set(records_of_profiles(tx, profiles))
                       | opened_blocks(tx, resolver, keys_before))
    if survivors:
        resolve_touched(tx, resolver, survivors, at)
    live = {p for p in profile_of(tx, survivors).values() if p}
    gone = sorted(profiles - live)
    drop_profiles(tx, gone, {a for pid in gone for a in tx.aliases_of(pid)})
    for pid in gone:
        tx.add_change("profile.erased", pid, {"reason": "retention"}, at)
    recompute_traits(tx, config, live, at)
    return len(gone)
