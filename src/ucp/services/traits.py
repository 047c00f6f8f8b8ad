"""Computed traits over the store: recompute the profiles a change touched, rebuild them all,
and read one profile's traits.

The values are a pure function of a profile's events (`domain.traits.evaluate`), recomputed
from all of its events whenever one lands or its membership changes; the incremental path and
`ucp traits rebuild` therefore store identical values for the same events and the same `now`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from ucp.config import UCPConfig
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

    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


class TraitComputer:
    """Recomputes the traits of given profiles inside the caller's transaction."""

    def __init__(self, config: UCPConfig) -> None:
        self.specs = trait_specs(config)

    @property
    def enabled(self) -> bool:
        return bool(self.specs)

    def recompute(self, tx: StoreTx, profile_ids: Iterable[str], at: datetime) -> int:
        """Recompute (or drop, for retired ids) each profile's traits; returns profiles written."""
        wanted = set(profile_ids)
        if not self.specs or not wanted:
            return 0
        lock_profiles(tx, wanted)
        live = tx.live_profiles(wanted)
        tx.delete_traits(wanted - live)
        rows = tx.profile_event_rows(live)
        values = {
            pid: dt.evaluate(self.specs, [event_facts(r) for r in events], at)
            for pid, events in rows.items()
        }
        tx.replace_traits(values, at)
        return len(values)


def profile_traits(tx: StoreTx, profile_id: str, config: UCPConfig | None = None) -> dict[str, Any]:
    """The traits section of a profile view: `{"values": {...}, "updated_at": ...}`.

    With `config`, derived values (`days_since(...)`, ratios) are recomputed at read time from
    the stored aggregates; without it they are as stored at `updated_at`.
    """
    values, updated = tx.traits_of(profile_id)
    if config is not None and config.traits:
        values = dt.derive_all(trait_specs(config), values, now())
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
