"""Stable profile ids across re-clustering (design.md §4).

Given who owned which record before and the new partition, decide the profile id of each new
cluster: on a merge the oldest profile survives and the others become aliases; on a split the
part holding most of the old profile's records keeps its id and the other parts get new ids.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from ucp.domain.model import RecordKey


@dataclass(frozen=True, slots=True)
class ProfileChange:
    """One entry for the change feed: `profile.created/updated/merged/split/erased`."""

    type: str
    profile_id: str
    data: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Assignment:
    """The outcome: each record's profile, retired ids (alias → survivor) and the changes."""

    membership: dict[RecordKey, str]
    aliases: dict[str, str]
    removed: frozenset[str]
    changes: tuple[ProfileChange, ...]


def assign_profiles(
    clusters: Sequence[frozenset[RecordKey]],
    previous: Mapping[RecordKey, str | None],
    age: Mapping[str, object],
    new_id: Callable[[], str],
) -> Assignment:
    """Map new clusters to profile ids.

    Args:
        clusters: the new partition of the touched records.
        previous: each touched record's profile before (None for a new record).
        age: sortable creation key per previous profile id (older sorts first).
        new_id: makes a fresh profile id.
    """
    old_parts: dict[str, Counter[int]] = defaultdict(Counter)
    before_of: dict[str, set[RecordKey]] = defaultdict(set)
    for key, pid in previous.items():
        if pid is not None:
            before_of[pid].add(key)
    ordered = sorted(clusters, key=lambda c: min(c))
    for i, cluster in enumerate(ordered):
        for key in cluster:
            pid = previous.get(key)
            if pid is not None:
                old_parts[pid][i] += 1
    # each old profile keeps to the cluster holding most of its records (ties: first cluster)
    keeper: dict[str, int] = {
        pid: min(parts, key=lambda i: (-parts[i], i)) for pid, parts in old_parts.items()
    }
    claims: dict[int, list[str]] = defaultdict(list)
    for pid, i in keeper.items():
        claims[i].append(pid)

    membership: dict[RecordKey, str] = {}
    aliases: dict[str, str] = {}
    changes: list[ProfileChange] = []
    split_off: dict[str, list[str]] = defaultdict(list)
    for i, cluster in enumerate(ordered):
        claimants = sorted(claims.get(i, []), key=lambda p: (str(age.get(p, "")), p))
        if claimants:
            pid = claimants[0]
            for gone in claimants[1:]:
                aliases[gone] = pid
                changes.append(ProfileChange("profile.merged", pid, {"from": gone, "into": pid}))
            before = before_of[pid]
            if set(cluster) != before and len(claimants) == 1:
                changes.append(
                    ProfileChange(
                        "profile.updated",
                        pid,
                        {
                            "records_added": len(cluster - before),
                            "records_removed": len(before - cluster),
                        },
                    )
                )
        else:
            pid = new_id()
            origins = sorted({p for k in cluster if (p := previous.get(k)) is not None})
            if origins:
                for origin in origins:
                    split_off[origin].append(pid)
            else:
                changes.append(ProfileChange("profile.created", pid, {"records": len(cluster)}))
        for key in cluster:
            membership[key] = pid
    for origin, new_ids in sorted(split_off.items()):
        survivor = aliases.get(origin, origin)
        changes.append(ProfileChange("profile.split", survivor, {"from": origin, "into": new_ids}))
    alive = set(membership.values())
    removed = frozenset(
        p
        for p in {p for p in previous.values() if p is not None}
        if p not in alive and p not in aliases
    )
    return Assignment(membership, aliases, removed, tuple(changes))
