"""Blocking: candidate pairs are records sharing a key under at least one rule.

A rule is a pure function record -> key string (`blocking_keys`, so a store can index keys);
over a whole table the same keys are grouped with integer codes and sorting, and pairs are
generated per block size with numpy — no Python loop over pairs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from ucp.domain.resolution.settings import BlockingRule
from ucp.domain.resolution.table import RecordTable, distinct_ints

Ints = npt.NDArray[np.int64]
_SEP = "\x1f"


def rule_keys(table: RecordTable, rule: BlockingRule) -> list[str]:
    """Each row's key under `rule` ("" when a feature is missing)."""
    cols = [table.column(f) for f in rule.features]
    if len(cols) == 1:
        return list(cols[0])
    return [_SEP.join(vals) if all(vals) else "" for vals in zip(*cols, strict=True)]


def key_codes(keys: Sequence[str]) -> Ints:
    """Dense integer codes per distinct key (first-seen order); -1 for the empty key."""
    index: dict[str, int] = {"": -1}
    return np.fromiter((index.setdefault(k, len(index) - 1) for k in keys), dtype=np.int64,
                       count=len(keys))


def rule_codes(table: RecordTable, rule: BlockingRule) -> Ints:
    """`key_codes(rule_keys(table, rule))` up to renumbering, from the table's cached value
    codes: integer arithmetic instead of joining and hashing a key string per row."""
    combined: Ints | None = None
    missing: npt.NDArray[np.bool_] | None = None
    for feature in rule.features:
        codes, uniq = table.codes(feature)
        empty = np.flatnonzero(uniq == "")
        absent = codes == empty[0] if len(empty) else np.zeros(len(codes), dtype=bool)
        if combined is None or missing is None:
            combined, missing = codes, absent
            continue
        _, combined = distinct_ints(combined * np.int64(len(uniq)) + codes)
        missing = missing | absent
    if combined is None or missing is None:
        return np.full(len(table), -1, dtype=np.int64)
    return np.where(missing, -1, combined)


def pairs_in_groups(codes: Ints, max_size: int | None = None) -> tuple[Ints, Ints, int, int]:
    """All (i < j) row pairs sharing a code (>= 0); groups above `max_size` are skipped.

    Returns:
        (left rows, right rows, blocks skipped, records in skipped blocks).
    """
    rows = np.flatnonzero(codes >= 0)
    if len(rows) < 2:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, 0, 0
    order = rows[np.argsort(codes[rows], kind="stable")]
    sorted_codes = codes[order]
    starts = np.flatnonzero(np.r_[True, sorted_codes[1:] != sorted_codes[:-1]])
    sizes = np.diff(np.r_[starts, len(order)])
    too_big = sizes > max_size if max_size else np.zeros(len(sizes), dtype=bool)
    left: list[Ints] = []
    right: list[Ints] = []
    for size in np.unique(sizes[(sizes > 1) & ~too_big]).tolist():
        group_starts = starts[sizes == size]
        members = order[group_starts[:, None] + np.arange(size)]
        ti, tj = np.triu_indices(size, 1)
        a, b = members[:, ti].ravel(), members[:, tj].ravel()
        left.append(np.minimum(a, b))
        right.append(np.maximum(a, b))
    if not left:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, int(too_big.sum()), int(sizes[too_big].sum())
    return (np.concatenate(left), np.concatenate(right), int(too_big.sum()),
            int(sizes[too_big].sum()))


@dataclass(slots=True)
class RuleReport:
    """What one rule contributed: its pairs, the pairs no earlier rule found, skipped blocks."""

    rule: str
    pairs: int = 0
    new_pairs: int = 0
    skipped_blocks: int = 0
    skipped_records: int = 0
    true_pairs: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__}


@dataclass(slots=True)
class BlockingReport:
    """Pairs per rule and in total; with the truth, the true matches each rule finds."""

    rules: list[RuleReport] = field(default_factory=list)
    total_pairs: int = 0
    true_pairs_found: int | None = None
    true_pairs_total: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"rules": [r.to_dict() for r in self.rules], "total_pairs": self.total_pairs,
                "true_pairs_found": self.true_pairs_found,
                "true_pairs_total": self.true_pairs_total}


def sorted_unique(values: Ints) -> Ints:
    """Sorted distinct values (sort + neighbour compare: faster than np.unique's hashing)."""
    if not len(values):
        return values
    ordered = np.sort(values)
    return ordered[np.r_[True, ordered[1:] != ordered[:-1]]]


def _pair_code(a: Ints, b: Ints, n: int) -> Ints:
    return a * np.int64(n) + b


def block(
    table: RecordTable,
    rules: Sequence[BlockingRule],
    max_block_size: int | None = None,
    truth: Sequence[object] | None = None,
    oversized: frozenset[str] = frozenset(),
) -> tuple[Ints, Ints, BlockingReport]:
    """Candidate pairs (left < right row, sorted, unique) over all rules, and a report.

    Args:
        truth: optional entity per row; the report then counts true pairs per rule.
        oversized: keys (`"<rule>:<key>"`, as `blocking_keys` gives) to skip whatever their
            size in this table: blocks that are above `max_block_size` in a larger record set
            (the whole store) this table is a part of, so a part pairs exactly what the whole
            would.
    """
    n = len(table)
    if truth is None and n <= _SMALL_TABLE:
        return _block_small(table, rules, max_block_size, oversized)
    cache_key = (tuple(rules), max_block_size, oversized)
    cached: tuple[Ints, Ints, BlockingReport] | None = table.blocked.get(cache_key)
    if truth is None and cached is not None:
        return cached
    report = BlockingReport()
    seen = np.empty(0, dtype=np.int64)
    entity = key_codes([str(t) for t in truth]) if truth is not None else None
    for rule in rules:
        if oversized:
            rows_codes = key_codes(_rule_keys(table, rule, oversized))
        else:
            rows_codes = rule_codes(table, rule)
        a, b, skipped, skipped_records = pairs_in_groups(rows_codes, max_block_size)
        codes = sorted_unique(_pair_code(a, b, n))
        if len(seen):
            at = np.minimum(np.searchsorted(seen, codes), len(seen) - 1)
            fresh = codes[seen[at] != codes]
        else:
            fresh = codes
        entry = RuleReport(rule.name, len(codes), len(fresh), skipped, skipped_records)
        if entity is not None:
            entry.true_pairs = int((entity[codes // n] == entity[codes % n]).sum())
        report.rules.append(entry)
        seen = np.sort(np.concatenate([seen, fresh]), kind="stable")  # two sorted runs: merged
    report.total_pairs = len(seen)
    if entity is not None:
        report.true_pairs_found = int((entity[seen // n] == entity[seen % n]).sum())
        sizes = np.bincount(entity[entity >= 0]) if len(entity) else np.empty(0, np.int64)
        report.true_pairs_total = int((sizes * (sizes - 1) // 2).sum())
    found = (seen // n, seen % n, report)
    if truth is None:
        table.blocked[cache_key] = found  # training and resolving block the same table
    return found


#: up to this many rows, `block` groups keys with a dict (numpy's fixed cost per rule dominates
#: a handful of records: the store's incremental path resolves one small group at a time)
_SMALL_TABLE = 48


def _rule_keys(table: RecordTable, rule: BlockingRule, oversized: frozenset[str]) -> list[str]:
    keys = rule_keys(table, rule)
    if oversized:
        prefix = f"{rule.name}:"
        keys = ["" if k and prefix + k in oversized else k for k in keys]
    return keys


def _block_small(
    table: RecordTable,
    rules: Sequence[BlockingRule],
    max_block_size: int | None,
    oversized: frozenset[str],
) -> tuple[Ints, Ints, BlockingReport]:
    """`block` for a small table: the same pairs and report, with plain dicts and sets."""
    n = len(table)
    report = BlockingReport()
    seen: set[int] = set()
    for rule in rules:
        groups: dict[str, list[int]] = {}
        for row, key in enumerate(_rule_keys(table, rule, oversized)):
            if key:
                groups.setdefault(key, []).append(row)
        codes: set[int] = set()
        skipped = skipped_records = 0
        for rows in groups.values():
            if max_block_size and len(rows) > max_block_size:
                skipped += 1
                skipped_records += len(rows)
                continue
            for i, x in enumerate(rows):
                codes.update(x * n + y for y in rows[i + 1:])
        fresh = codes - seen
        report.rules.append(RuleReport(rule.name, len(codes), len(fresh), skipped,
                                       skipped_records))
        seen |= fresh
    report.total_pairs = len(seen)
    found = np.array(sorted(seen), dtype=np.int64)
    return found // max(n, 1), found % max(n, 1), report


def blocking_keys(table: RecordTable, rules: Sequence[BlockingRule], row: int = 0) -> list[str]:
    """One row's keys, each prefixed by its rule name (what a store indexes)."""
    out = []
    for rule in rules:
        values = [table.column(f)[row] for f in rule.features]
        if all(values):
            out.append(f"{rule.name}:{_SEP.join(values)}")
    return out
