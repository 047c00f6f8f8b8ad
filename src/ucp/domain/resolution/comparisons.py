"""Comparisons: how alike two records are on one feature, as a level (vectorized over pairs).

Level 0 is always "null" (a value missing on either side: no evidence, weight 0); levels
1..L follow from the strongest agreement to the last, "else". Every comparison is computed for
arrays of pairs at once (numpy + rapidfuzz), never pair by pair in Python.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from rapidfuzz import fuzz
from rapidfuzz.distance import OSA, Indel, JaroWinkler
from rapidfuzz.process import cpdist

from ucp.domain.resolution.settings import ComparisonSpec
from ucp.domain.resolution.table import NO_DATE, RecordTable, Strings, distinct_ints

Levels = npt.NDArray[np.int8]
Mask = npt.NDArray[np.bool_]
Floats = npt.NDArray[np.float64]
Pairs = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class _PairView:
    """Both sides of a batch of pairs. Equality and presence are tested on integer codes of
    the distinct values (`RecordTable.codes`), never string by string."""

    table: RecordTable
    ia: Pairs
    ib: Pairs
    _coded: dict[str, tuple[Pairs, Pairs, int]] = field(default_factory=dict)

    def sides(self, feature: str) -> tuple[Strings, Strings]:
        col = self.table.column(feature)
        return col[self.ia], col[self.ib]

    def coded(self, feature: str) -> tuple[Pairs, Pairs, int]:
        """Both sides as value codes, and the code of "" (-1 when no value is empty)."""
        found = self._coded.get(feature)
        if found is None:
            codes, uniq = self.table.codes(feature)
            empty = np.flatnonzero(uniq == "")
            found = (codes[self.ia], codes[self.ib], int(empty[0]) if len(empty) else -1)
            self._coded[feature] = found
        return found

    def same(self, feature: str) -> Mask:
        """Pairs whose two values are equal (both empty counts as equal)."""
        ca, cb, _ = self.coded(feature)
        return np.asarray(ca == cb, dtype=bool)

    def agree(self, feature: str) -> Mask:
        """Pairs whose two values are equal and not empty."""
        ca, cb, empty = self.coded(feature)
        return np.asarray((ca == cb) & (ca != empty), dtype=bool)

    def present(self, feature: str) -> Mask:
        """Pairs with a value on both sides."""
        ca, cb, empty = self.coded(feature)
        return np.asarray((ca != empty) & (cb != empty), dtype=bool)


def _score(v: _PairView, fa: str, fb: str, where: Mask, scorer: Callable[..., Any],
           dtype: Any = np.float64, fill: float = 0.0) -> Floats:
    """Score the pairs in `where` once per distinct pair of values (names repeat a lot)."""
    out = np.full(len(where), fill, dtype=np.float64)
    idx = np.flatnonzero(where)
    if not len(idx):
        return out
    codes_a, uniq_a = v.table.codes(fa)
    codes_b, uniq_b = v.table.codes(fb)
    width = np.int64(max(len(uniq_b), 1))
    combo = codes_a[v.ia[idx]] * width + codes_b[v.ib[idx]]
    distinct, inverse = distinct_ints(combo)
    # threads pay off on big batches only: starting them costs ~0.5 ms per call
    scores = cpdist(list(uniq_a[distinct // width]), list(uniq_b[distinct % width]),
                    scorer=scorer, dtype=dtype, workers=-1 if len(distinct) > 20_000 else 1)
    out[idx] = np.asarray(scores, dtype=np.float64)[inverse]
    return out


def jaro_winkler(v: _PairView, fa: str, fb: str, where: Mask, cross: bool = False) -> Floats:
    """Jaro–Winkler similarity (0..1) for the pairs in `where`, 0 elsewhere.

    `cross`: only pairs with both values present are scored (others stay 0).
    """
    if cross:
        ca, _, empty_a = v.coded(fa)
        _, cb, empty_b = v.coded(fb)
        where = where & (ca != empty_a) & (cb != empty_b)
    return _score(v, fa, fb, where, JaroWinkler.normalized_similarity)


def indel_similarity(v: _PairView, feature: str, where: Mask) -> Floats:
    """Normalized Indel similarity (0..1) for the pairs in `where`, 0 elsewhere."""
    return _score(v, feature, feature, where, Indel.normalized_similarity)


def edits(v: _PairView, feature: str, where: Mask) -> Floats:
    """Optimal-string-alignment distance (typos and transpositions), 99 outside `where`."""
    return _score(v, feature, feature, where, OSA.distance, dtype=np.int32, fill=99.0)


def token_similarity(v: _PairView, feature: str, where: Mask) -> Floats:
    """Token-set similarity (0..1): word order and repeated words do not matter."""
    return _score(v, feature, feature, where, fuzz.token_set_ratio) / 100.0


def _assign(present: Mask, conditions: list[Callable[[Mask], Mask]]) -> Levels:
    """First condition that holds gives the level (1..); none gives the last (else) level."""
    level = np.zeros(len(present), dtype=np.int8)
    todo = present.copy()
    for code, condition in enumerate(conditions, start=1):
        if not todo.any():
            break
        hit = todo & condition(todo)
        level[hit] = code
        todo &= ~hit
    level[todo] = len(conditions) + 1
    return level


def _sets_overlap(v: _PairView, feature: str, where: Mask) -> Mask:
    out = np.asarray(where & v.same(feature), dtype=bool)
    many = v.table.flag(feature, "|")
    multi = np.flatnonzero(where & ~out & (many[v.ia] | many[v.ib]))
    if not len(multi):
        return out
    # once per distinct pair of values (a nickname set is held by many records)
    codes, uniq = v.table.codes(feature)
    width = np.int64(max(len(uniq), 1))
    distinct, inverse = distinct_ints(codes[v.ia[multi]] * width + codes[v.ib[multi]])
    sets: dict[int, set[str]] = {}

    def of(code: int) -> set[str]:
        found = sets.get(code)
        if found is None:
            found = sets[code] = set(uniq[code].split("|"))
        return found

    w = int(width)
    overlap = np.fromiter((not of(c // w).isdisjoint(of(c % w)) for c in distinct.tolist()),
                          dtype=bool, count=len(distinct))
    out[multi] = overlap[inverse]
    return out


class Comparison:
    """One comparison built from a `ComparisonSpec`; `levels` names levels 1..L."""

    levels: tuple[str, ...] = ()

    def __init__(self, spec: ComparisonSpec) -> None:
        self.spec = spec
        self.name = spec.name
        self.feature = spec.feature

    #: level -> feature whose value frequency adjusts that level (when the spec asks for TF)
    tf_features: dict[int, str] = {}

    @property
    def tf_levels(self) -> dict[int, str]:
        """Levels with a term-frequency adjustment and the feature whose frequency counts."""
        if not self.spec.tf:
            return {}
        return self.tf_features or {1: self.feature}

    def compute(self, table: RecordTable, ia: Pairs, ib: Pairs) -> Levels:
        """The level of every pair (ia[k], ib[k])."""
        return self._levels(_PairView(table, ia, ib))

    def _levels(self, view: _PairView) -> Levels:  # pragma: no cover - abstract
        raise NotImplementedError

    def prior(self) -> tuple[list[float], list[float]]:
        """Untrained m and u per level 1..L: agreement likely for matches, rare otherwise."""
        n = len(self.levels)
        raw_m = [0.5 ** i for i in range(n - 1)]
        m = [0.9 * x / sum(raw_m) for x in raw_m] + [0.1]
        raw_u = [0.002 * 2.0 ** i for i in range(n - 1)]
        u = raw_u + [max(1.0 - sum(raw_u), 0.5)]
        total = sum(u)
        return m, [x / total for x in u]


def _swapped_names(v: _PairView, todo: Mask) -> Mask:
    """Pairs whose given and family names are each other's (Jaro–Winkler ≥ 0.9 both ways)."""
    both = todo & v.present("given") & v.present("family")
    one_way = jaro_winkler(v, "given", "family", both) >= 0.9
    return one_way & (jaro_winkler(v, "family", "given", one_way) >= 0.9)


class GivenNameComparison(Comparison):
    levels = ("exact", "nickname", "jaro_winkler_0.92", "phonetic", "swapped",
              "jaro_winkler_0.80", "initial", "else")

    def _levels(self, v: _PairView) -> Levels:
        ok = v.present("given")
        jw: dict[str, Floats] = {}

        def sim(todo: Mask) -> Floats:
            if "s" not in jw:
                jw["s"] = jaro_winkler(v, "given", "given", todo)
            return jw["s"]

        def swapped(todo: Mask) -> Mask:
            return _swapped_names(v, todo)

        short = v.table.flag("given", "initial")
        return _assign(ok, [
            lambda t: v.same("given"),
            lambda t: _sets_overlap(v, "given_canon", t & v.present("given_canon")),
            lambda t: sim(t) >= 0.92,
            lambda t: v.agree("given_meta") | v.agree("given_nysiis"),
            swapped,
            lambda t: sim(t) >= 0.80,
            lambda t: np.asarray((short[v.ia] | short[v.ib]) & v.same("given_initial"),
                                 dtype=bool),
        ])


class FamilyNameComparison(Comparison):
    """Swapped given/family names count once, in the given-name comparison: null here."""

    levels = ("exact", "jaro_winkler_0.92", "phonetic", "jaro_winkler_0.80", "else")

    def _levels(self, v: _PairView) -> Levels:
        ok = v.present("family")
        jw: dict[str, Floats] = {}

        def sim(todo: Mask) -> Floats:
            if "s" not in jw:
                jw["s"] = jaro_winkler(v, "family", "family", todo)
            return jw["s"]

        def swapped(todo: Mask) -> Mask:
            return _swapped_names(v, todo)

        exact = v.same("family")
        ok = ok & ~(~exact & swapped(ok & ~exact))
        return _assign(ok, [
            lambda t: exact,
            lambda t: sim(t) >= 0.92,
            lambda t: v.agree("family_meta") | v.agree("family_nysiis"),
            lambda t: sim(t) >= 0.80,
        ])


class DateComparison(Comparison):
    levels = ("exact", "one_digit_or_day_month_swap", "same_year", "within_1_year",
              "within_n_years", "else")

    def _levels(self, v: _PairView) -> Levels:
        ok = v.present(self.feature)
        days = v.table.dob_days
        da, db = days[v.ia], days[v.ib]
        valid = (da != NO_DATE) & (db != NO_DATE)
        gap = np.where(valid, np.abs(da - db), np.iinfo(np.int64).max)
        years = float(self.spec.options.get("years", 5))

        def typo(todo: Mask) -> Mask:
            close = edits(v, self.feature, todo) <= 1
            idx = np.flatnonzero(todo & ~close)
            swap = np.zeros(len(todo), dtype=bool)
            swap[idx] = v.table.column("dob_swap")[v.ia[idx]] == v.table.column(
                self.feature)[v.ib[idx]]
            return np.asarray(close | swap, dtype=bool)

        return _assign(ok, [
            lambda t: v.same(self.feature),
            typo,
            lambda t: v.same("birth_year"),
            lambda t: gap <= 366,
            lambda t: gap <= int(366 * years),
        ])


class EmailComparison(Comparison):
    """The fuzzy level needs the same digits in both local parts: two people with one name
    get `michaelsmith85@…` and `michaelsmith53@…` (similar strings, different mailboxes)."""

    levels = ("exact", "same_local_part", "jaro_winkler_0.88", "else")
    tf_features = {1: "email", 2: "email_local"}

    def _levels(self, v: _PairView) -> Levels:
        return _assign(v.present("email"), [
            lambda t: v.same("email"),
            lambda t: v.agree("email_local"),
            lambda t: jaro_winkler(v, "email", "email", t & v.same("email_digits")) >= 0.88,
        ])


class PhoneComparison(Comparison):
    levels = ("exact", "same_last_7_digits", "one_digit", "else")

    def _levels(self, v: _PairView) -> Levels:
        return _assign(v.present("phone"), [
            lambda t: v.same("phone"),
            lambda t: v.agree("phone_last7"),
            lambda t: edits(v, "phone", t) <= 1,
        ])


class AddressComparison(Comparison):
    levels = ("exact", "number_and_street", "tokens_0.90", "number_and_similar_street",
              "number_and_postcode", "tokens_0.70", "else")

    def _levels(self, v: _PairView) -> Levels:
        ok = v.present("address")
        same_number = v.agree("house_number")
        other_number = v.present("house_number") & ~v.same("house_number")
        cache: dict[str, Floats] = {}

        def street(todo: Mask) -> Floats:
            if "s" not in cache:
                # both levels that read it also need the same house number
                cache["s"] = jaro_winkler(v, "street", "street",
                                          todo & same_number & v.present("street"))
            return cache["s"]

        def tokens(todo: Mask) -> Floats:
            if "t" not in cache:
                cache["t"] = token_similarity(v, "address", todo)
            return cache["t"]

        return _assign(ok, [
            lambda t: v.same("address"),
            lambda t: same_number & (street(t) >= 0.9),
            lambda t: ~other_number & (tokens(t) >= 0.9),
            lambda t: same_number & (street(t) >= 0.7),
            lambda t: same_number & v.agree("postcode"),
            lambda t: tokens(t) >= 0.7,
        ])


class PostcodeComparison(Comparison):
    levels = ("exact", "near", "else")

    def _levels(self, v: _PairView) -> Levels:
        return _assign(v.present(self.feature), [
            lambda t: v.same(self.feature),
            lambda t: edits(v, self.feature, t) <= 1,
        ])


class TextComparison(Comparison):
    levels = ("exact", "jaro_winkler_0.92", "jaro_winkler_0.80", "else")

    def _levels(self, v: _PairView) -> Levels:
        ok = v.present(self.feature)
        cache: dict[str, Floats] = {}

        def sim(todo: Mask) -> Floats:
            if "s" not in cache:
                cache["s"] = jaro_winkler(v, self.feature, self.feature, todo)
            return cache["s"]

        return _assign(ok, [
            lambda t: v.same(self.feature),
            lambda t: sim(t) >= 0.92,
            lambda t: sim(t) >= 0.80,
        ])


class ExactComparison(Comparison):
    """Exact or else; with option `typo` a one-edit level in between (ids keyed by hand)."""

    def __init__(self, spec: ComparisonSpec) -> None:
        super().__init__(spec)
        self.typo = bool(spec.options.get("typo", 0))
        self.levels = ("exact", "one_typo", "else") if self.typo else ("exact", "else")

    def _levels(self, v: _PairView) -> Levels:
        conditions: list[Callable[[Mask], Mask]] = [lambda t: v.same(self.feature)]
        if self.typo:
            conditions.append(lambda t: edits(v, self.feature, t) <= 1)
        return _assign(v.present(self.feature), conditions)


KINDS: dict[str, type[Comparison]] = {
    "given_name": GivenNameComparison,
    "family_name": FamilyNameComparison,
    "date": DateComparison,
    "email": EmailComparison,
    "phone": PhoneComparison,
    "address": AddressComparison,
    "postcode": PostcodeComparison,
    "text": TextComparison,
    "exact": ExactComparison,
}


def build_comparison(spec: ComparisonSpec) -> Comparison:
    """The comparison a spec asks for."""
    try:
        return KINDS[spec.kind](spec)
    except KeyError:
        raise ValueError(
            f"unknown comparison kind {spec.kind!r}; kinds are: {', '.join(sorted(KINDS))}"
        ) from None


def compare_all(comparisons: list[Comparison], table: RecordTable, ia: Pairs, ib: Pairs,
                ) -> npt.NDArray[np.int8]:
    """The level matrix: one row per pair, one column per comparison."""
    out = np.zeros((len(ia), len(comparisons)), dtype=np.int8)
    for j, comparison in enumerate(comparisons):
        out[:, j] = comparison.compute(table, ia, ib)
    return out
