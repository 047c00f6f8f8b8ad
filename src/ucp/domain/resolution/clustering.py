"""Constrained, deterministic clustering: strongest links first, never across a conflict.

Plain connected components chains A~B~C into one person even when A and C are clearly two
people. Here edges are taken strongest first (steward must-links, then identifier links, then
probabilistic links by weight; ties by row = record-key order, never arrival order), and two
groups join only when

- no cannot-link (steward decision) joins a member of one to a member of the other,
- they hold no two different records of a source marked unique-per-person,
- identifier `max_per_profile` limits still hold,
- no cross pair is a hard conflict (evidence below `conflict_weight`, or a hard-conflict
  comparison at its "else" level); a *name* conflict (two clearly different given names with
  no person evidence agreeing) refuses the join unless more cross pairs agree on person
  evidence (birth date, a non-shared email, an id column) than conflict on names: then the
  minority is read as a corrupted record, not as another person, and
- for probabilistic links, the mean match probability over all cross pairs reaches
  `min_cross_probability` (average-linkage support: one strong edge is not enough).

Inside every connected component of candidate links up to `component_pairs_limit` records,
all pairs are scored, so these checks see every cross pair.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from ucp.domain.resolution.blocking import pairs_in_groups
from ucp.domain.resolution.comparisons import _PairView, indel_similarity, jaro_winkler
from ucp.domain.resolution.fs_model import Model, prob_to_weight
from ucp.domain.resolution.generic import LETTERS_SIMILAR, shared_rows
from ucp.domain.resolution.scoring import ScoredPairs, score_pairs
from ucp.domain.resolution.settings import ResolutionSettings
from ucp.domain.resolution.table import RecordTable

Ints = npt.NDArray[np.int64]
#: edge ranks: steward must-link, shared identifier, probabilistic
MANUAL, IDENTIFIER, PROBABILISTIC = 2, 1, 0
KIND_NAMES = {MANUAL: "manual", IDENTIFIER: "identifier", PROBABILISTIC: "probabilistic"}
_CROSS_CHECK_LIMIT = 40_000
#: evidence value marking a name conflict: refuses a join unless person evidence outvotes it
NAME_CONFLICT = -1e300


def connected_components(n: int, a: Ints, b: Ints) -> Ints:
    """Component label per row (the smallest row of its component), vectorized."""
    labels = np.arange(n, dtype=np.int64)
    if not len(a):
        return labels
    while True:
        la, lb = labels[a], labels[b]
        low = np.minimum(la, lb)
        new = labels.copy()
        np.minimum.at(new, la, low)
        np.minimum.at(new, lb, low)
        while True:
            jumped = new[new]
            if np.array_equal(jumped, new):
                break
            new = jumped
        if np.array_equal(new, labels):
            return labels
        labels = new


@dataclass(frozen=True, slots=True)
class Constraints:
    """Rows that must / must not be one person, and per-row unique-source codes (-1: none)."""

    must_link: tuple[tuple[int, int], ...] = ()
    cannot_link: tuple[tuple[int, int], ...] = ()
    unique_source: Sequence[int] = ()
    limits: Mapping[str, int] = field(default_factory=dict)


@dataclass(slots=True)
class ClusterOutcome:
    """Cluster label per row, the accepted links (edge indexes) and refused strong edges."""

    labels: Ints
    links: list[int]
    refused: dict[int, str]


class _Groups:
    """Union–find over rows with per-group members, unique sources, cannot-links, id values."""

    def __init__(self, table: RecordTable, constraints: Constraints) -> None:
        self.parent: dict[int, int] = {}
        self.members: dict[int, list[int]] = {}
        # per group, only where there is something to hold (most batches have no unique
        # sources, cannot-links or id limits: then nothing is built per row)
        self.sources: dict[int, set[int]] = {}
        self.cannot: dict[int, set[int]] = {}
        self.values: dict[int, dict[str, set[str]]] = {}
        self.table = table
        self.constraints = constraints
        unique = constraints.unique_source
        self.unique = unique if len(unique) and any(int(c) >= 0 for c in unique) else None
        self.limits = dict(constraints.limits)
        #: whether any rule (`blocked_by_rules`) can refuse a join at all
        self.ruled = bool(constraints.cannot_link or self.unique is not None or self.limits)
        for x, y in constraints.cannot_link:
            self._touch(x)
            self._touch(y)
            self.cannot.setdefault(x, set()).add(y)
            self.cannot.setdefault(y, set()).add(x)

    def _touch(self, row: int) -> None:
        if row in self.parent:
            return
        self.parent[row] = row
        self.members[row] = [row]
        if self.unique is not None and int(self.unique[row]) >= 0:
            self.sources[row] = {int(self.unique[row])}
        if self.limits:
            limited: dict[str, set[str]] = {}
            for id_type, value in self.table.identifiers[row]:
                if id_type in self.limits:
                    limited.setdefault(id_type, set()).add(value)
            if limited:
                self.values[row] = limited

    def find(self, row: int) -> int:
        parent = self.parent
        if row not in parent:
            self._touch(row)
            return row
        root = row
        while parent[root] != root:
            root = parent[root]
        while parent[row] != root:
            parent[row], row = root, parent[row]
        return root

    def blocked_by_rules(self, ra: int, rb: int, manual: bool) -> str | None:
        # most groups have no cannot-link: do not build a set of the other group's members
        # for every edge (quadratic in a big component)
        cannot = self.cannot.get(ra)
        if cannot and not cannot.isdisjoint(self.members[rb]):
            return "cannot_link"
        if manual:
            return None
        sa, sb = self.sources.get(ra), self.sources.get(rb)
        if sa and sb and not sa.isdisjoint(sb):
            return "unique_source"
        if self.limits:
            va, vb = self.values.get(ra, {}), self.values.get(rb, {})
            for id_type, limit in self.limits.items():
                if len(va.get(id_type, set()) | vb.get(id_type, set())) > limit:
                    return f"max_per_profile:{id_type}"
        return None

    def union(self, ra: int, rb: int) -> None:
        keep, gone = (ra, rb) if ra < rb else (rb, ra)
        self.parent[gone] = keep
        self.members[keep].extend(self.members.pop(gone))
        for held in (self.sources, self.cannot):
            moved = held.pop(gone, None)
            if moved:
                held.setdefault(keep, set()).update(moved)
        values = self.values.pop(gone, None)
        if values:
            mine = self.values.setdefault(keep, {})
            for id_type, vals in values.items():
                mine.setdefault(id_type, set()).update(vals)


def hard_conflicts(model: Model, settings: ResolutionSettings, table: RecordTable,
                   batch: ScoredPairs) -> npt.NDArray[np.bool_]:
    """Pairs that clustering never puts in one person on their own (see `conflict_parts`)."""
    absolute, names, _ = conflict_parts(model, settings, table, batch)
    return absolute | names


Flags = npt.NDArray[np.bool_]


def conflict_parts(model: Model, settings: ResolutionSettings, table: RecordTable,
                   batch: ScoredPairs) -> tuple[Flags, Flags, Flags]:
    """(absolute conflicts, name conflicts, person evidence agreeing) per pair.

    A configured `hard_conflicts` set all at "else"; or a `distinct_person` comparison at
    "else" (two clearly different given names: not even an anagram-like scramble of each
    other, see `LETTERS_SIMILAR`) with no `person_evidence` agreeing: household members and
    people at one address share family name, address and phone, not themselves.
    """
    levels = batch.levels
    index = {p.name: j for j, p in enumerate(model.params)}
    last = {p.name: len(p.levels) for p in model.params}
    hit = np.zeros(len(levels), dtype=bool)
    for combo_names in settings.hard_conflicts:
        if all(name in index for name in combo_names):
            combo = np.ones(len(levels), dtype=bool)
            for name in combo_names:
                combo &= levels[:, index[name]] == last[name]
            hit |= combo
    distinct = [index[name] for name in settings.distinct_person if name in index]
    if not distinct:
        return hit, np.zeros(len(levels), dtype=bool), np.zeros(len(levels), dtype=bool)
    other = np.zeros(len(levels), dtype=bool)
    names = np.zeros(len(levels), dtype=bool)
    for j in distinct:
        params = model.params[j]
        if model.comparisons[j].feature == "given":
            # "else", or only a phonetic likeness (Aimé/Anaïs): checked letter by letter below
            weak = [k + 1 for k, level in enumerate(params.levels)
                    if level in ("phonetic", "else")]
            names |= np.isin(levels[:, j], weak)
        else:
            other |= levels[:, j] == len(params.levels)
    for j, comparison in enumerate(model.comparisons):
        if comparison.feature == "given":
            # another birth date says little when the given names agree (a typo'd year)
            strong = [k + 1 for k, level in enumerate(model.params[j].levels)
                      if level in ("exact", "nickname", "jaro_winkler_0.92", "swapped")]
            other &= ~np.isin(levels[:, j], strong)
    evidence = list(settings.person_evidence)
    evidence += [(c, len(model.params[index[c]].levels) - 1)
                 for c in settings.exact_columns if c in index]
    agree = np.zeros(len(levels), dtype=bool)
    for name, strongest in evidence:
        if name not in index:
            continue
        col = levels[:, index[name]]
        fired = (col >= 1) & (col <= strongest)
        feature = model.comparisons[index[name]].feature
        if feature in ("email", "phone") and fired.any():
            # a family mailbox or a landline is shared, not one person's evidence
            shared = shared_rows(table, feature)
            fired &= ~(shared[batch.ia] | shared[batch.ib])
        agree |= fired
    names &= ~agree
    if names.any():
        view = _PairView(table, batch.ia, batch.ib)
        names &= jaro_winkler(view, "given", "given", names) < 0.8
        names &= indel_similarity(view, "given_letters", names) < LETTERS_SIMILAR
        # a swap on one side only (given of one = family of the other) is no conflict
        for left, right in (("given", "family"), ("family", "given")):
            if names.any():
                names &= jaro_winkler(view, left, right, names, cross=True) < 0.8
    return hit | (other & ~agree), names, agree
    return hit


def _intra_pairs(
    model: Model, table: RecordTable, labels: Ints, limit: int
) -> ScoredPairs | None:
    """Score every pair inside each multi-record component of up to `limit` records."""
    sizes = np.bincount(labels, minlength=len(labels))
    codes = np.where(sizes[labels] >= 3, labels, -1)
    ia, ib, _, _ = pairs_in_groups(codes, limit)
    if not len(ia):
        return None
    return score_pairs(model, table, ia, ib)


def cluster_rows(
    model: Model,
    settings: ResolutionSettings,
    table: RecordTable,
    scored: ScoredPairs,
    kinds: npt.NDArray[np.int8],
    constraints: Constraints,
) -> ClusterOutcome:
    """Partition the table's rows; `scored` are the candidate pairs, `kinds` their edge rank.

    Linkable edges are probabilistic pairs at or above `auto`, identifier pairs and must-links.
    """
    n = len(table)
    auto_w = prob_to_weight(settings.auto)
    linkable = np.flatnonzero((scored.weight >= auto_w) | (kinds > PROBABILISTIC))
    labels = connected_components(n, scored.ia[linkable], scored.ib[linkable])
    prior = model.prior_weight

    # the evidence of every known pair inside a component, by pair code; and the pairs whose
    # person evidence (birth date, email, id column) agrees, which can outvote name conflicts
    known: dict[int, float] = {}
    vouched: set[int] = set()

    def remember(batch: ScoredPairs, rows: npt.NDArray[np.bool_] | None = None) -> None:
        if rows is not None:
            batch = batch.take(np.flatnonzero(rows))  # only pairs inside a component matter
        absolute, names, agree = conflict_parts(model, settings, table, batch)
        ev = np.where(names, NAME_CONFLICT, batch.weight - prior)
        ev = np.where(absolute, -np.inf, ev)
        codes = batch.ia * n + batch.ib
        known.update(zip(codes.tolist(), ev.tolist(), strict=True))
        vouched.update(codes[agree].tolist())

    inside = linkable[labels[scored.ia[linkable]] == labels[scored.ib[linkable]]]
    remember(scored, labels[scored.ia] == labels[scored.ib])
    intra = _intra_pairs(model, table, labels, settings.component_pairs_limit)
    if intra is not None:
        remember(intra)

    groups = _Groups(table, constraints)
    order = inside[np.lexsort((scored.ib[inside], scored.ia[inside], -scored.weight[inside],
                               -kinds[inside]))]
    min_p = settings.min_cross_probability
    conflict = settings.conflict_weight
    links: list[int] = []
    refused: dict[int, str] = {}
    near = _Neighbours(known, n)
    find = groups.find
    ordered = order.tolist()
    ia, ib = scored.ia[order], scored.ib[order]
    alone = _lone_verdicts(ia * n + ib, kinds[order], known, prior, conflict, min_p)
    # a group is known by its root (its smallest row: `union` keeps the smaller root) and its
    # size (groups only grow): two groups checked once are not checked again (a household's
    # members are linked to each other by many edges, each refused the same way)
    verdicts: dict[tuple[int, int, int, int, bool], str | None] = {}
    ruled = groups.ruled
    for e, a, b, kind, lone in zip(ordered, ia.tolist(), ib.tolist(), kinds[order].tolist(),
                                   alone, strict=True):
        ra, rb = find(a), find(b)
        if ra == rb:
            continue
        reason = groups.blocked_by_rules(ra, rb, kind == MANUAL) if ruled else None
        if reason is None and kind != MANUAL:
            ga, gb = groups.members[ra], groups.members[rb]
            if len(ga) == 1 and len(gb) == 1:
                # two single records: the edge is their only cross pair (most joins)
                if lone is not None:
                    refused[e] = lone
                    continue
                groups.union(ra, rb)
                links.append(e)
                continue
            weighed = kind == PROBABILISTIC
            seen = ((ra, len(ga), rb, len(gb), weighed) if ra < rb else
                    (rb, len(gb), ra, len(ga), weighed))
            if seen in verdicts:
                reason = verdicts[seen]
            else:
                pairs = None
                if len(ga) * len(gb) > _CROSS_CHECK_LIMIT:
                    # big groups: walk the known pairs of the smaller one instead of every
                    # cross pair (most are unknown: never blocked, component too big to score)
                    small, other = (ga, rb) if len(ga) <= len(gb) else (gb, ra)
                    pairs = near.crossing(small, other, groups.find)
                reason = verdicts[seen] = _cross_check(ga, gb, known, vouched, n, prior,
                                                       conflict, min_p if weighed else 0.0,
                                                       pairs)
        if reason is not None:
            refused[e] = reason
            continue
        groups.union(ra, rb)
        links.append(e)
    final = np.arange(n, dtype=np.int64)
    for root, members in groups.members.items():
        final[members] = root
    return ClusterOutcome(final, links, refused)


class _Neighbours:
    """The known pairs as adjacency lists (CSR arrays), built on first use."""

    def __init__(self, known: dict[int, float], n: int) -> None:
        self.known = known
        self.n = n
        self.start: Ints | None = None
        self.other: Ints | None = None

    def crossing(self, small: list[int], other_root: int,
                 find: Callable[[int], int]) -> list[int]:
        """Codes of the known pairs between the rows `small` and the group of `other_root`."""
        if self.start is None or self.other is None:
            codes = np.fromiter(self.known, dtype=np.int64, count=len(self.known))
            a, b = codes // self.n, codes % self.n
            rows, others = np.concatenate([a, b]), np.concatenate([b, a])
            order = np.argsort(rows, kind="stable")
            self.other = others[order]
            self.start = np.concatenate(
                [[0], np.cumsum(np.bincount(rows, minlength=self.n))]).astype(np.int64)
        out = []
        n = self.n
        for x in small:
            for y in self.other[self.start[x]:self.start[x + 1]].tolist():
                if find(y) == other_root:
                    out.append(x * n + y if x < y else y * n + x)
        return out


def _lone_verdicts(codes: Ints, kinds: npt.NDArray[np.int8], known: dict[int, float],
                   prior: float, conflict: float, min_p: float) -> list[str | None]:
    """Per edge, what `_cross_check` says of two single records joined by it alone: a name
    conflict or a conflict refuses (a lone pair's person evidence cannot outvote its own
    name conflict), a probabilistic edge below `min_p` is weak; vectorized."""
    ev = np.fromiter((known[c] for c in codes.tolist()), dtype=np.float64, count=len(codes))
    w = ev + prior
    with np.errstate(over="ignore"):
        p = np.where(w > -60, 1.0 / (1.0 + np.exp2(-np.maximum(w, -60.0))), 0.0)
    bad = (ev == NAME_CONFLICT) | (ev < conflict)
    weak = ~bad & (kinds == PROBABILISTIC) & (min_p > 0) & (p < min_p)
    out: list[str | None] = [None] * len(codes)
    for k in np.flatnonzero(bad).tolist():
        out[k] = "conflict"
    for k in np.flatnonzero(weak).tolist():
        out[k] = "weak_support"
    return out


def _cross_check(ga: list[int], gb: list[int], known: dict[int, float], vouched: set[int],
                 n: int, prior: float, conflict: float, min_p: float,
                 pairs: list[int] | None = None) -> str | None:
    """Why groups `ga` and `gb` may not join, or None.

    `pairs`: the codes of their known cross pairs when already found (big groups); else every
    cross pair is looked up. Name conflicts are outvoted only by more cross pairs whose person
    evidence agrees.
    """
    if pairs is None:
        pairs = [x * n + y if x < y else y * n + x for x in ga for y in gb]
    total, count, names, persons = 0.0, 0, 0, 0
    for code in pairs:
        ev = known.get(code)
        if ev is None:
            continue
        persons += code in vouched
        if ev == NAME_CONFLICT:
            names += 1
            count += 1
            continue
        if ev < conflict:
            return "conflict"
        w = ev + prior
        total += 1.0 / (1.0 + 2.0 ** (-w)) if w > -60 else 0.0
        count += 1
    if names and persons <= names:
        return "conflict"
    if count and min_p > 0 and total / count < min_p:
        return "weak_support"
    return None
