"""Identifier links with generic-value detection (design.md §3, as Senzing does).

A linkable identifier value links its holders, unless it is blocked by policy or *generic*:
held by records whose names say they are unrelated people (a shop's phone, `info@` mailbox).
The decision looks only at the set of holders, so it never depends on arrival order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ucp.domain.resolution.deterministic import IdentifierPolicy
from ucp.domain.resolution.table import RecordTable

Ints = npt.NDArray[np.int64]
#: holders above this many are linked as a star from the first holder, not pair by pair
_ALL_PAIRS_UP_TO = 12


@dataclass(frozen=True, slots=True)
class IdentifierEdges:
    """Row pairs sharing a linkable value, the identifier type per edge, and generic values."""

    ia: Ints
    ib: Ints
    types: tuple[str, ...]
    generic: frozenset[tuple[str, str]]


def name_key(table: RecordTable, row: int) -> str:
    """A loose name key (family phonetic prefix + given initial); "" without a name."""
    family = table.column("family_nysiis")[row] or table.column("family")[row]
    given = table.column("given_initial")[row]
    return f"{family[:4]}/{given}" if family or given else ""


def is_generic(table: RecordTable, rows: list[int], min_names: int) -> bool:
    """A value is generic when its holders carry at least `min_names` unrelated names."""
    if len(rows) < min_names:
        return False
    names = {k for r in rows if (k := name_key(table, r))}
    return len(names) >= min_names


def identifier_edges(
    table: RecordTable, policies: Mapping[str, IdentifierPolicy], min_names: int
) -> IdentifierEdges:
    """Edges between holders of each linkable, non-generic identifier value."""
    holders: dict[tuple[str, str], list[int]] = defaultdict(list)
    for row, idents in enumerate(table.identifiers):
        for id_type, value in idents:
            policy = policies.get(id_type)
            if policy is not None and policy.may_link(value):
                holders[(id_type, value)].append(row)
    left: list[int] = []
    right: list[int] = []
    types: list[str] = []
    generic = set()
    for ident in sorted(holders):
        rows = sorted(set(holders[ident]))
        if len(rows) < 2:
            continue
        if is_generic(table, rows, min_names):
            generic.add(ident)
            continue
        if len(rows) <= _ALL_PAIRS_UP_TO:
            pairs = [(a, b) for i, a in enumerate(rows) for b in rows[i + 1:]]
        else:
            pairs = [(rows[0], b) for b in rows[1:]]
        for a, b in pairs:
            left.append(a)
            right.append(b)
            types.append(ident[0])
    return IdentifierEdges(np.array(left, dtype=np.int64), np.array(right, dtype=np.int64),
                           tuple(types), frozenset(generic))
