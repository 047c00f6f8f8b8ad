"""Shortcuts of scoring and training give exactly what the plain computation gives."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from ucp.domain.resolution import Model, ResolutionSettings, scoring
from ucp.domain.resolution.blocking import block
from ucp.domain.resolution.comparisons import compare_all
from ucp.domain.resolution.scoring import cache_levels, compare_pairs
from ucp.domain.resolution.table import RecordTable, distinct_ints
from ucp.domain.resolution.training import level_patterns

from .people import population


def _table_and_model() -> tuple[RecordTable, Model]:
    settings = ResolutionSettings()
    return RecordTable.from_records(population()), Model.untrained(settings)


def test_cached_levels_equal_fresh_ones_for_known_unknown_and_some_comparisons() -> None:
    table, model = _table_and_model()
    settings = ResolutionSettings()
    ia, ib, _ = block(table, settings.all_blocking(), settings.max_block_size)
    assert len(ia) > 50
    rng = np.random.default_rng(3)
    # a mix of blocked (cached) pairs and random ones that were never blocked
    ra = rng.integers(0, len(table) - 1, 200)
    rb = rng.integers(ra + 1, len(table))
    qa, qb = np.concatenate([ia[::3], ra]), np.concatenate([ib[::3], rb])
    fresh = compare_all(model.comparisons, table, qa, qb)

    assert cache_levels(model.comparisons, table, ia, ib)
    assert np.array_equal(compare_pairs(model.comparisons, table, qa, qb), fresh)
    assert np.array_equal(compare_pairs(model.comparisons, table, ia, ib),
                          compare_all(model.comparisons, table, ia, ib))
    some = [0, 3, 4]
    assert np.array_equal(compare_pairs(model.comparisons, table, qa, qb, columns=some),
                          fresh[:, some])


def test_levels_compared_half_by_a_helper_thread_are_the_same(
        monkeypatch: pytest.MonkeyPatch) -> None:
    table, model = _table_and_model()
    settings = ResolutionSettings()
    ia, ib, _ = block(table, settings.all_blocking(), settings.max_block_size)
    monkeypatch.setattr(scoring, "_SPLIT_FROM", 10)
    with ThreadPoolExecutor(1) as helper:
        assert cache_levels(model.comparisons, table, ia, ib, helper)
    codes, levels = next(iter(table.compared.values()))
    assert np.array_equal(codes, ia * len(table) + ib)
    assert np.array_equal(levels, compare_all(model.comparisons, table, ia, ib))


def test_a_cache_of_other_comparisons_is_not_used() -> None:
    table, model = _table_and_model()
    ia, ib = np.array([0, 1, 2]), np.array([5, 6, 7])
    cache_levels(model.comparisons[:2], table, ia, ib)
    assert np.array_equal(compare_pairs(model.comparisons, table, ia, ib),
                          compare_all(model.comparisons, table, ia, ib))


@pytest.mark.parametrize("size", [10, 50_000])
def test_distinct_ints_maps_every_value_to_its_distinct_value(size: int) -> None:
    values = np.random.default_rng(1).integers(0, size // 4 + 2, size) * 7919
    distinct, inverse = distinct_ints(values)
    assert len(distinct) == len(np.unique(values))
    assert np.array_equal(distinct[inverse], values)


@pytest.mark.parametrize("columns", [1, 4, 15, 16])
def test_level_patterns_are_numpy_unique_rows(columns: int) -> None:
    levels = np.random.default_rng(columns).integers(0, 9, (3_000, columns)).astype(np.int8)
    patterns, inverse = level_patterns(levels)
    expected, expected_inverse = np.unique(levels, axis=0, return_inverse=True)
    assert np.array_equal(patterns, expected)
    assert np.array_equal(inverse, expected_inverse.reshape(-1))
