"""The columnar form of records that blocking, scoring and clustering work on.

Rows are in record-key order (never arrival order), each feature is one numpy array of strings
("" = null) built once, so every later step is vectorized and sequence neutral.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from ucp.domain.features import record_features
from ucp.domain.model import Identifier, RecordKey, ResolvableRecord

Strings = npt.NDArray[np.object_]
Ints = npt.NDArray[np.int64]

#: features read from attributes (before the derived ones)
BASE_FEATURES: tuple[str, ...] = (
    "given", "given_canon", "given_meta", "given_nysiis", "family", "family_meta",
    "family_nysiis", "dob", "email", "phone", "house_number", "street", "address_line2",
    "postcode", "locality", "region", "gender",
)
#: features computed from the base ones
DERIVED_FEATURES: tuple[str, ...] = (
    "given_initial", "family_initial", "name_pair", "birth_year", "birth_month", "email_local",
    "phone_last7", "address", "dob_swap", "given_letters", "email_digits",
)
_DIGIT_RUN = re.compile(r"[^0-9]+")
NO_DATE = np.iinfo(np.int64).min


#: bump when `attribute_features` / `record_base_features` change what they produce: stored
#: features (the store keeps them per record so the incremental path reads, not recomputes)
#: written under another version are recomputed
FEATURES_VERSION = 1


def record_base_features(record: ResolvableRecord) -> dict[str, str]:
    """A record's base features (what a `RecordTable` row holds before the derived ones).

    Email and phone identifiers fill those features when the attributes lack them. Pure: the
    store keeps the result per record (`FEATURES_VERSION`) so candidates are read, not rebuilt.
    """
    feats = record_features(record.attributes)
    for ident in record.identifiers:
        if ident.type in ("email", "phone") and ident.type not in feats:
            feats[ident.type] = ident.value
    return feats


def _pair(ident: Any) -> tuple[str, str]:
    return (ident.type, ident.value) if isinstance(ident, Identifier) else (ident[0], ident[1])


#: from this many rows, `RecordTable.codes` hashes in Arrow (C) rather than a Python dict
_ARROW_FROM = 20_000


def factorize(col: Strings) -> tuple[Ints, Strings]:
    """Codes into the distinct values, numbered in order of first appearance."""
    if len(col) >= _ARROW_FROM:
        import pyarrow as pa

        encoded = pa.array(col, type=pa.string()).dictionary_encode()
        codes = np.asarray(encoded.indices, dtype=np.int64)
        uniq = encoded.dictionary.to_numpy(zero_copy_only=False)  # object array of str
        return codes, np.asarray(uniq, dtype=object)
    index: dict[str, int] = {}
    codes = np.fromiter((index.setdefault(x, len(index)) for x in col), dtype=np.int64,
                        count=len(col))
    return codes, _strings(list(index))


def distinct_ints(values: Ints) -> tuple[Ints, Ints]:
    """(distinct values, index of each value among them): `np.unique` without the sort for a
    big array (Arrow hashes; the distinct values come in order of first appearance)."""
    if len(values) >= _ARROW_FROM:
        import pyarrow as pa

        encoded = pa.array(values, type=pa.int64()).dictionary_encode()
        return (np.asarray(encoded.dictionary, dtype=np.int64),
                np.asarray(encoded.indices, dtype=np.int64))
    uniq, inverse = np.unique(values, return_inverse=True)
    return uniq, inverse.reshape(-1)


#: from this many rows, `RecordTable.build` derives features per distinct value
_DERIVE_DISTINCT_FROM = 2_000


def _as_strings(values: Sequence[str] | Strings) -> Strings:
    if isinstance(values, np.ndarray) and values.dtype == object:
        return values
    return _strings(list(values))


def _strings(values: Sequence[str]) -> Strings:
    arr = np.empty(len(values), dtype=object)
    arr[:] = list(values)
    return arr


@dataclass(slots=True)
class RecordTable:
    """Records as columns: `keys[i]` is row i (sorted), `features[name][i]` its value or ""."""

    keys: list[RecordKey]
    features: dict[str, Strings]
    dob_days: Ints
    identifiers: list[tuple[tuple[str, str], ...]]
    _flags: dict[tuple[str, str], npt.NDArray[np.bool_]] = field(default_factory=dict)
    _codes: dict[str, tuple[Ints, Strings]] = field(default_factory=dict)
    #: `blocking.block` results by (rules, max block size, oversized keys): training's λ
    #: estimate and the resolution block the same table with the same rules
    blocked: dict[Any, Any] = field(default_factory=dict)
    #: comparison levels already computed, by comparison set: (sorted pair codes, levels);
    #: training compares the blocked pairs once and resolving the same table reuses them
    compared: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.keys)

    def flag(self, name: str, test: str) -> npt.NDArray[np.bool_]:
        """Per-row booleans of a feature: `initial` (one letter) or containing `test`."""
        found = self._flags.get((name, test))
        if found is None:
            col = self.column(name)
            if test == "initial":
                found = np.fromiter((len(x) == 1 for x in col), dtype=bool, count=len(col))
            else:
                found = np.fromiter((test in x for x in col), dtype=bool, count=len(col))
            self._flags[(name, test)] = found
        return found

    def codes(self, name: str) -> tuple[Ints, Strings]:
        """A feature as integer codes into its distinct values (computed once)."""
        found = self._codes.get(name)
        if found is None:
            col = self.column(name)
            found = factorize(col)
            self._codes[name] = found
        return found

    def column(self, name: str) -> Strings:
        """A feature column; an unknown feature is all null."""
        found = self.features.get(name)
        if found is None:
            found = _strings([""] * len(self.keys))
            self.features[name] = found
        return found

    @classmethod
    def from_records(cls, records: Sequence[ResolvableRecord]) -> RecordTable:
        """Build the table from records (any order: rows are sorted by key)."""
        return cls.from_features(
            [(r.key, record_base_features(r), r.identifiers) for r in records]
        )

    @classmethod
    def from_features(
        cls, rows: Sequence[tuple[RecordKey, Mapping[str, str], Sequence[Any]]]
    ) -> RecordTable:
        """Build from `(key, base features, identifiers)` per record (any order: rows are
        sorted by key). Identifiers are `Identifier`s or `(type, value)` pairs."""
        ordered = sorted(rows, key=lambda r: r[0])
        for prev, nxt in zip(ordered, ordered[1:], strict=False):
            if prev[0] == nxt[0]:
                raise ValueError(f"duplicate record key {nxt[0]}")
        names = sorted({n for _, feats, _ in ordered for n in feats} | set(BASE_FEATURES))
        base = {n: [feats.get(n, "") for _, feats, _ in ordered] for n in names}
        idents = [tuple(sorted({_pair(i) for i in ids})) for _, _, ids in ordered]
        return cls.build([r[0] for r in ordered], base, idents)

    def base_row(self, row: int) -> dict[str, str]:
        """Row `row`'s non-empty base features (the inverse of `from_features`)."""
        derived = set(DERIVED_FEATURES)
        return {
            name: value
            for name, col in self.features.items()
            if name not in derived and (value := col[row])
        }

    @classmethod
    def build(
        cls,
        keys: list[RecordKey],
        base: Mapping[str, Sequence[str] | Strings],
        identifiers: list[tuple[tuple[str, str], ...]] | None = None,
        codes: Mapping[str, tuple[Ints, Strings]] | None = None,
    ) -> RecordTable:
        """Build from base feature columns already in key order (lists or object arrays, which
        are used as they are); adds the derived features. `codes`: value codes of base
        features already known (`codes()` of those features then costs nothing)."""
        n = len(keys)
        features: dict[str, Strings] = {k: _as_strings(v) for k, v in base.items()}
        for name in BASE_FEATURES:
            if name not in features:
                features[name] = _strings([""] * n)
        table = cls(keys, features, np.empty(0, dtype=np.int64), identifiers or [() for _ in keys])
        table._codes.update(codes or {})
        # derived features are computed once per distinct value and share its string objects
        # (a big table repeats years, months, domains ... thousands of times)
        derive = table._derive
        derive("given_initial", ("given",), lambda g: g[:1])
        derive("family_initial", ("family",), lambda f: f[:1])
        derive("name_pair", ("given", "family"),
               lambda g, f: "|".join(sorted((g, f))) if g and f else "")
        derive("birth_year", ("dob",), lambda d: d[:4])
        derive("birth_month", ("dob",), lambda d: d[:7])
        derive("email_local", ("email",), lambda e: e.split("@", 1)[0] if "@" in e else "")
        derive("email_digits", ("email_local",),
               lambda local: _DIGIT_RUN.sub("", local) + "#" if local else "")
        derive("phone_last7", ("phone",), lambda p: p[-7:] if len(p) >= 7 else "")
        derive("address", ("house_number", "street", "address_line2"),
               lambda *parts: " ".join(x for x in parts if x))
        derive("given_letters", ("given",), lambda g: "".join(sorted(g)))
        derive("dob_swap", ("dob",),
               lambda d: f"{d[:4]}-{d[8:10]}-{d[5:7]}" if len(d) == 10 else "")
        codes_dob, uniq = table.codes("dob")
        days = np.array([d if len(d) == 10 else "NaT" for d in uniq], dtype="datetime64[D]")
        table.dob_days = (days.astype(np.int64)[codes_dob] if len(uniq)
                          else np.empty(0, np.int64))
        return table

    def _derive(self, name: str, inputs: tuple[str, ...], fn: Callable[..., str]) -> None:
        """Feature `name` = fn over the input features, evaluated once per distinct
        combination of values (its value codes follow from theirs, for free)."""
        cols = [self.column(feature) for feature in inputs]
        n = len(self.keys)
        if n < _DERIVE_DISTINCT_FROM:
            self.features[name] = _strings([fn(*vals) for vals in zip(*cols, strict=True)])
            return
        if len(inputs) == 1:
            inverse, uniq = self.codes(inputs[0])
            values = _strings([fn(v) for v in uniq])
        else:
            combined, _ = self.codes(inputs[0])
            for feature in inputs[1:]:
                more, uniq = self.codes(feature)
                _, combined = distinct_ints(combined * np.int64(max(len(uniq), 1)) + more)
            distinct, inverse = distinct_ints(combined)
            # any row holding a combination stands for it: fn reads the values only
            some_row = np.empty(len(distinct), dtype=np.int64)
            some_row[inverse] = np.arange(n, dtype=np.int64)
            args = [col[some_row].tolist() for col in cols]
            values = _strings([fn(*vals) for vals in zip(*args, strict=True)])
        self.features[name] = values[inverse]
        value_codes, value_uniq = factorize(values)
        self._codes[name] = (value_codes[inverse], value_uniq)
