"""Computed traits over the store: fold new events into the profiles they reach, recompute
the profiles a change touched, rebuild them all, and read one profile's traits.

Each trait row keeps its value and its incremental state (`domain.trait_state`). A new event
of a profile whose records did not change is *folded* into the stored state (no other event is
read); a profile whose membership changed (created, merged, split, a record's identifiers
changed) is *recomputed* by folding all of its events into an empty state — which is what
`ucp traits rebuild` does for every profile. Folds are order-independent, so both paths store the
same state and the same values for the same events and the same `now`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from ucp.config import UCPConfig
from ucp.domain import trait_state as ts
from ucp.domain import traits as dt
from ucp.services.locking import lock_profiles, run_with_retry
from ucp.store.store import Store, StoreTx, now


def trait_specs(config: UCPConfig) -> list[dt.TraitSpec]:
    """The `traits:` section of ucp.yaml as domain definitions (config order is kept)."""
    specs: list[dt.TraitSpec] = []
    for name, trait in config.traits.items():
        if trait.derive is not None:
            specs.append(dt.parse_expression(name, trait.derive))
        else:
            assert trait.aggregate is not None
            specs.append(dt.AggregateSpec(
                name=name,
                aggregate=trait.aggregate,
                of=trait.of,
                where=dt.parse_where(trait.where),
                window=dt.parse_window(trait.window) if trait.window else None,
            ))
    dt.check_references(specs)
    return specs


def event_facts(row: dict[str, Any]) -> dt.EventFacts:
    """What trait evaluation reads of an event row (stored or about to be): times in UTC, so
    `timestamp` reads the same on every backend."""
    return dt.EventFacts(
        source=row["source"],
        key=row["event_key"],
        name=row["name"],
        occurred_at=_aware(row["occurred_at"]),
        received_at=_aware(row["received_at"]),
        properties=row["properties"] or {},
    )


def _aware(value: Any) -> Any:
    from datetime import UTC

    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value


class TraitComputer:
    """Updates the traits of profiles inside the caller's transaction."""

    def __init__(self, config: UCPConfig) -> None:
        self.specs = trait_specs(config)

    @property
    def enabled(self) -> bool:
        return bool(self.specs)

    def recompute(self, tx: StoreTx, profile_ids: Iterable[str], at: datetime) -> int:
        """Recompute (or drop, for retired ids) each profile's traits from all of its events;
        returns profiles written."""
        return self.update(tx, profile_ids, {}, at)

    def update(
        self,
        tx: StoreTx,
        recompute: Iterable[str],
        fold: dict[str, list[dt.EventFacts]],
        at: datetime,
    ) -> int:
        """Recompute the profiles in `recompute` from their events, and fold `fold[pid]` (events
        new to a profile whose records did not change) into the stored state of the others;
        a profile without a usable state (none yet, or a trait definition changed) is
        recomputed instead. Returns profiles written."""
        full = set(recompute)
        if not self.specs or not (full or fold):
            return 0
        lock_profiles(tx, full | set(fold))
        folding = {pid: evs for pid, evs in fold.items() if pid not in full}
        stored = tx.trait_states(folding) if folding else {}
        states: dict[str, dict[str, Any]] = {}
        for pid, events in folding.items():
            if ts.usable(self.specs, stored.get(pid)):
                states[pid] = ts.fold(self.specs, stored[pid], events, at, in_place=True)
            else:
                full.add(pid)
        if full:
            live = tx.live_profiles(full)
            tx.delete_traits(full - live)
            for pid, rows in tx.profile_event_rows(live).items():
                states[pid] = ts.fold(self.specs, None, [event_facts(r) for r in rows], at)
        values = {pid: ts.values(self.specs, st, at) for pid, st in states.items()}
        tx.replace_traits(values, at, states)
        return len(values)


def profile_traits(tx: StoreTx, profile_id: str, config: UCPConfig | None = None) -> dict[str, Any]:
    """The traits section of a profile view: `{"values": {...}, "updated_at": ...}`.

    With `config`, windowed aggregates (`orders_30d`) and derived values (`days_since(...)`,
    ratios) are evaluated at read time from the stored states; without it they are as stored
    at `updated_at`.
    """
    values, states, updated = tx.traits_with_states(profile_id)
    if config is not None and config.traits:
        specs = trait_specs(config)
        if ts.usable(specs, states):
            values = ts.values(specs, states, now())
        else:
            values = dt.derive_all(specs, values, now())
    return {"values": values, "updated_at": updated}


def rebuild_traits(
    store: Store,
    config: UCPConfig,
    at: datetime | None = None,
    batch: int = 500,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Batch: recompute every profile's traits (and drop those of retired profiles)."""
    computer = TraitComputer(config)
    at = at or now()
    with store.read() as tx:
        total = tx.counts()["profiles"]
        orphans = set(tx.all_traits()) - tx.live_profiles(tx.all_traits())
    if orphans:
        with store.write() as tx:
            tx.delete_traits(orphans)
    if not computer.enabled:
        with store.write() as tx:
            tx.delete_traits(set(tx.all_traits()))
        return 0
    done, cursor = 0, None
    while True:
        with store.read() as tx:
            page = [row["id"] for row in tx.list_profiles(cursor, batch)]
        if not page:
            break

        def write_page(ids: list[str] = page) -> int:
            with store.write() as tx:
                return computer.recompute(tx, ids, at)

        run_with_retry(write_page)
        done += len(page)
        cursor = page[-1]
        if progress:
            progress(done, total)
    return done
