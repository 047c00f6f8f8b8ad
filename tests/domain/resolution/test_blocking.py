"""Blocking: the small-table path pairs exactly as the numpy path, and skipped keys hold."""

from __future__ import annotations

import random

import numpy as np

from ucp.domain.model import Identifier, RecordKey, ResolvableRecord
from ucp.domain.resolution import blocking
from ucp.domain.resolution.settings import ResolutionSettings
from ucp.domain.resolution.table import RecordTable, record_base_features

FEATURES = ("given", "family", "given_meta", "family_meta", "given_nysiis", "family_nysiis",
            "given_canon", "email", "phone", "postcode", "locality", "house_number", "street")


def _random_table(rng: random.Random, n: int) -> RecordTable:
    base = {f: [rng.choice(["", "a", "b", "c"]) for _ in range(n)] for f in FEATURES}
    base["dob"] = [rng.choice(["", "1980-01-02", "1980-02-01", "1981-01-02"]) for _ in range(n)]
    return RecordTable.build([RecordKey("s", f"{i:03}") for i in range(n)], base)


def test_small_tables_pair_exactly_as_the_vectorized_path(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(3)
    rules = ResolutionSettings().all_blocking()
    for trial in range(150):
        table = _random_table(rng, rng.randint(0, 40))
        limit = rng.choice([None, 2, 3, 5])
        keys = [k for row in range(len(table)) for k in blocking.blocking_keys(table, rules, row)]
        skip = frozenset(rng.sample(keys, min(3, len(keys))))
        small = blocking._block_small(table, rules, limit, skip)
        monkeypatch.setattr(blocking, "_SMALL_TABLE", -1)
        big = blocking.block(table, rules, limit, None, skip)
        monkeypatch.undo()
        assert np.array_equal(small[0], big[0]) and np.array_equal(small[1], big[1]), trial
        assert small[2].to_dict() == big[2].to_dict(), trial


def test_oversized_keys_are_skipped_whatever_their_size_here() -> None:
    rules = ResolutionSettings().all_blocking()
    a = {"given": "ann", "family": "lee", "dob": "1980-01-02"}
    table = RecordTable.build([RecordKey("s", "1"), RecordKey("s", "2")],
                              {k: [v, v] for k, v in a.items()})
    ia, _, _ = blocking.block(table, rules, 500)
    assert len(ia) == 1
    every = frozenset(blocking.blocking_keys(table, rules, 0))
    ia, _, report = blocking.block(table, rules, 500, oversized=every)
    assert len(ia) == 0 and report.total_pairs == 0


def test_features_round_trip_through_a_table() -> None:
    record = ResolvableRecord(
        RecordKey("crm", "1"), (Identifier("email", "ann@x.org"),),
        {"given_name": {"raw": "Ann", "value": "Ann", "match": "ann", "parts": {}},
         "family_name": {"raw": "Lee", "value": "Lee", "match": "lee", "parts": {}}})
    feats = record_base_features(record)
    assert feats["email"] == "ann@x.org" and feats["given"] == "ann"
    table = RecordTable.from_features([(record.key, feats, record.identifiers)])
    assert table.base_row(0) == {k: v for k, v in feats.items() if v}  # "" is no value
    assert table.identifiers == [(("email", "ann@x.org"),)]
    assert RecordTable.from_records([record]).features.keys() == table.features.keys()
