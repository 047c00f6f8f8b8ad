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
from rapidfuzz.distance import Indel, JaroWinkler

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


class _Names:
    """The name columns the generic-value checks read, as lists (a row's value is read by
    index thousands of times: a list is quicker than an array, and a lookup per column once)."""

    __slots__ = ("given", "family", "canon", "family_nysiis", "given_initial")

    def __init__(self, table: RecordTable) -> None:
        self.given: list[str] = table.column("given").tolist()
        self.family: list[str] = table.column("family").tolist()
        self.canon: list[str] = table.column("given_canon").tolist()
        self.family_nysiis: list[str] = table.column("family_nysiis").tolist()
        self.given_initial: list[str] = table.column("given_initial").tolist()

    def key(self, row: int) -> str:
        """A loose name key (family phonetic prefix + given initial); "" without a name."""
        family = self.family_nysiis[row] or self.family[row]
        given = self.given_initial[row]
        return f"{family[:4]}/{given}" if family or given else ""

    def clearly_different(self, x: int, y: int) -> bool:
        """Two present given names that are no nickname, initial, typo or scramble of each
        other."""
        a, b = self.given[x], self.given[y]
        if not a or not b or a == b or len(a) == 1 or len(b) == 1:
            return False
        if set(self.canon[x].split("|")) & set(self.canon[y].split("|")):
            return False
        if _alike(a, b):
            return False
        # one side has given and family swapped (Alfie Griffiths / Griffiths Alfie)
        return not (_alike(a, self.family[y]) or _alike(b, self.family[x]))

    def shared(self, rows: list[int]) -> bool:
        """Whether holders `rows` of one value carry clearly different given names."""
        if len(rows) > _SHARED_CHECK_LIMIT:
            return True
        return any(self.clearly_different(x, y) for i, x in enumerate(rows)
                   for y in rows[i + 1:])

    def generic(self, rows: list[int], min_names: int) -> bool:
        """A value is generic when its holders carry at least `min_names` unrelated names."""
        if len(rows) < min_names:
            return False
        return len({k for r in rows if (k := self.key(r))}) >= min_names


#: sorted-letter similarity from which two given names are one name scrambled or cut (Ivy/Iy,
#: Olivia/Ilivoa), not two people
LETTERS_SIMILAR = 0.8
#: holders of one value beyond this many are not compared name by name (a generic value anyway)
_SHARED_CHECK_LIMIT = 50


def _alike(a: str, b: str) -> bool:
    if not a or not b:
        return False
    if JaroWinkler.normalized_similarity(a, b) >= 0.8:
        return True
    return bool(Indel.normalized_similarity("".join(sorted(a)), "".join(sorted(b)))
                >= LETTERS_SIMILAR)


def shared_rows(table: RecordTable, feature: str) -> npt.NDArray[np.bool_]:
    """Rows whose `feature` value is *shared*: held by records with clearly different given
    names (a household's landline or family mailbox), so it identifies no one person.

    Reads only the set of holders of each value: order independent. Cached on the table.
    """
    cache_key = (feature, "\x00shared")
    found = table._flags.get(cache_key)
    if found is not None:
        return found
    codes, _ = table.codes(feature)
    col = table.column(feature)
    out = np.zeros(len(table), dtype=bool)
    present = np.flatnonzero(col != "")
    if len(present):
        counts = np.bincount(codes[present])
        multi = present[counts[codes[present]] >= 2]
        holders: dict[int, list[int]] = defaultdict(list)
        for row in multi.tolist():
            holders[int(codes[row])].append(row)
        names = _Names(table)
        for rows in holders.values():
            if names.shared(rows):
                out[rows] = True
    table._flags[cache_key] = out
    return out


def identifier_edges(
    table: RecordTable, policies: Mapping[str, IdentifierPolicy], min_names: int
) -> IdentifierEdges:
    """Edges between holders of each linkable, non-generic identifier value."""
    holders: dict[tuple[str, str], list[int]] = defaultdict(list)
    for row, idents in enumerate(table.identifiers):
        for id_type, value in idents:
            holders[(id_type, value)].append(row)
    left: list[int] = []
    right: list[int] = []
    types: list[str] = []
    generic = set()
    names = _Names(table)
    # most values have one holder: only shared ones are checked against their policy
    for ident in sorted(k for k, held in holders.items() if len(held) >= 2):
        policy = policies.get(ident[0])
        if policy is None or not policy.may_link(ident[1]):
            continue
        rows = sorted(set(holders[ident]))
        if len(rows) < 2:
            continue
        if names.generic(rows, min_names) or names.shared(rows):
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
