"""Constrained clustering: no chaining across conflicts, constraints respected, order-free."""

from __future__ import annotations

import random
from dataclasses import replace

import numpy as np
import pytest

from ucp.domain.model import RecordKey, ResolvableRecord
from ucp.domain.resolution import (
    DeterministicResolver,
    IdentifierPolicy,
    Model,
    ProbabilisticResolver,
    ResolutionSettings,
    train,
)
from ucp.domain.resolution.clustering import (
    IDENTIFIER,
    NAME_CONFLICT,
    PROBABILISTIC,
    _cross_check,
    _lone_verdicts,
)
from ucp.domain.resolution.settings import HOUSEHOLD_SAFE

from .people import person, population

POLICIES = {"email": IdentifierPolicy("email", max_per_profile=3),
            "phone": IdentifierPolicy("phone")}
SETTINGS = ResolutionSettings()


@pytest.fixture(scope="module")
def trained() -> Model:
    return train(population(), SETTINGS, seed=0)[0]


def partition(resolver: ProbabilisticResolver | DeterministicResolver,
              records: list[ResolvableRecord]) -> set[frozenset[str]]:
    return {frozenset(k.source_key for k in c.members) for c in resolver.cluster(records)}


def test_duplicates_join_and_households_twins_and_shared_phones_stay_apart(trained: Model,
                                                                           ) -> None:
    records = population()
    settings = replace(SETTINGS, hard_conflicts=HOUSEHOLD_SAFE)
    resolver = ProbabilisticResolver(trained, settings, POLICIES)
    found = partition(resolver, records)
    by_key = {r.key.source_key: r for r in records}

    def same(a: str, b: str) -> bool:
        return any(a in c and b in c for c in found)

    assert same("r000", "r001")  # crm record and its typo'd shop duplicate
    assert same("r000", "r002")  # and the support record with an initial only
    assert not same("r000", "r003")  # the household member
    assert not same("r000", "r004")  # the twin
    shop_phone = [k for k, r in by_key.items() if r.identifiers
                  and r.identifiers[0].type == "phone"]
    assert len(shop_phone) == 4 and all(not same(shop_phone[0], k) for k in shop_phone[1:])


@pytest.mark.parametrize("hard", [(), HOUSEHOLD_SAFE])
def test_shuffled_input_gives_the_identical_partition(
    trained: Model, hard: tuple[tuple[str, ...], ...]
) -> None:
    records = population()
    settings = replace(SETTINGS, hard_conflicts=hard)
    resolver = ProbabilisticResolver(trained, settings, POLICIES)
    expected = resolver.cluster(records)
    for seed in (1, 2, 3):
        shuffled = records[:]
        random.Random(seed).shuffle(shuffled)
        assert resolver.cluster(shuffled) == expected


def test_a_chain_through_identifiers_is_cut_where_its_ends_conflict() -> None:
    settings = replace(SETTINGS, conflict_weight=-5.0)
    a = person("a", given_name="John", family_name="Smith", birth_date="1980-01-01",
               ids=("email:js@mail.com",))
    b = person("b", ids=("email:js@mail.com", "phone:+442079460958"))
    c = person("c", given_name="Mary", family_name="Okafor", birth_date="1999-09-09",
               ids=("phone:+442079460958",))
    resolver = ProbabilisticResolver(Model.untrained(settings), settings, POLICIES)
    chained = partition(DeterministicResolver(POLICIES), [a, b, c])
    assert chained == {frozenset("abc")}
    assert partition(resolver, [a, b, c]) == {frozenset("ab"), frozenset("c")}


def test_steward_cannot_link_and_must_link_are_respected(trained: Model) -> None:
    a = person("a", given_name="Grace", family_name="Okafor", birth_date="1977-07-07",
               email="grace@mail.com")
    b = person("b", given_name="Grace", family_name="Okafor", birth_date="1977-07-07",
               email="grace@mail.com")
    c = person("c", given_name="Leo", family_name="Nakamura", birth_date="1960-01-01")
    plain = ProbabilisticResolver(trained, SETTINGS, {})
    assert partition(plain, [a, b, c]) == {frozenset("ab"), frozenset("c")}
    steward = ProbabilisticResolver(trained, SETTINGS, {}, cannot_link=[(a.key, b.key)],
                                    must_link=[(b.key, c.key)])
    clusters = steward.cluster([a, b, c])
    assert {frozenset(k.source_key for k in cl.members) for cl in clusters} == {
        frozenset("a"), frozenset("bc")}
    link = next(lk for cl in clusters for lk in cl.links)
    assert link.kind == "manual"


def test_two_keys_of_a_unique_per_person_source_never_join(trained: Model) -> None:
    a = person("a", "crm", given_name="Ivy", family_name="Walker", birth_date="1988-08-08")
    b = person("b", "crm", given_name="Ivy", family_name="Walker", birth_date="1988-08-08")
    assert partition(ProbabilisticResolver(trained, SETTINGS, {}), [a, b]) == {frozenset("ab")}
    unique = ProbabilisticResolver(trained, SETTINGS, {}, unique_sources=frozenset({"crm"}))
    assert partition(unique, [a, b]) == {frozenset("a"), frozenset("b")}


def test_links_carry_kind_weight_and_the_explain_waterfall(trained: Model) -> None:
    records = population()[:3]
    resolver = ProbabilisticResolver(trained, SETTINGS, POLICIES)
    links = [lk for c in resolver.cluster(records) for lk in c.links]
    assert links and all(lk.kind in ("identifier", "probabilistic") for lk in links)
    ev = links[0].evidence
    assert ev["model_version"] == trained.version
    parts = ev["prior"] + sum(c["weight"] + c["tf_adjustment"] for c in ev["comparisons"])
    assert abs(parts - ev["total"]) < 1e-2
    assert links[0].weight == pytest.approx(ev["total"], abs=1e-3)


def test_score_explains_any_two_records_whatever_their_order(trained: Model) -> None:
    resolver = ProbabilisticResolver(trained, SETTINGS, {})
    a, b = population()[:2]
    ab, ba = resolver.score(a, b), resolver.score(b, a)
    assert (ab.a, ab.b, ab.weight) == (ba.a, ba.b, ba.weight)
    assert 0.0 <= ab.probability <= 1.0
    assert {c["name"] for c in ab.evidence["comparisons"]} >= {"given_name", "birth_date"}


def test_review_pairs_lie_between_review_and_auto_best_first(trained: Model) -> None:
    records = population()
    resolver = ProbabilisticResolver(trained, SETTINGS.with_thresholds(auto=0.999999,
                                                                       review=0.01), {})
    pairs = resolver.review_pairs(records)
    assert pairs
    assert all(p.probability >= 0.01 for p in pairs)
    assert [p.weight for p in pairs] == sorted((p.weight for p in pairs), reverse=True)
    clusters = resolver.cluster(records)
    owner = {k: i for i, c in enumerate(clusters) for k in c.members}
    assert all(owner[p.a] != owner[p.b] for p in pairs)


def test_blocking_keys_are_prefixed_by_rule_and_candidates_are_scored(trained: Model) -> None:
    resolver = ProbabilisticResolver(trained, SETTINGS, POLICIES)
    keys = resolver.blocking_keys(population()[0])
    assert any(k.startswith("family_phonetic_year:") for k in keys)
    assert any(k.startswith("email:") for k in keys)
    edges = resolver.candidate_edges(population()[:6])
    assert edges and all(e.a < e.b for e in edges)
    assert all("comparisons" in e.evidence for e in edges)


def test_blocking_report_counts_true_pairs_per_rule(trained: Model) -> None:
    records = population()
    resolver = ProbabilisticResolver(trained, SETTINGS, POLICIES)
    truth = [r.key.source_key for r in sorted(records, key=lambda r: r.key)]
    report = resolver.resolve(records, truth).blocking
    assert report.true_pairs_total == 0 and report.true_pairs_found == 0
    assert sum(r.new_pairs for r in report.rules) == report.total_pairs


def test_resolver_keeps_the_resolver_protocol() -> None:
    resolver = ProbabilisticResolver(Model.untrained(SETTINGS), SETTINGS, {})
    assert resolver.model_version.startswith("fs-")
    assert resolver.cluster([]) == []
    one = person("x", given_name="Ava")
    assert [c.members for c in resolver.cluster([one])] == [frozenset({RecordKey("crm", "x")})]


def test_big_groups_are_cross_checked_through_their_known_pairs() -> None:
    """Two groups with more cross pairs than are looked up one by one (250 × 250) are still
    checked: their known cross pairs are found by walking the smaller group's neighbours."""
    from ucp.domain.resolution.clustering import _cross_check, _Neighbours

    n = 600
    ga, gb = list(range(250)), list(range(250, 500))
    root = {x: 0 for x in ga} | {y: 250 for y in gb} | {z: z for z in range(500, n)}

    def find(row: int) -> int:
        return root[row]

    def code(x: int, y: int) -> int:
        return min(x, y) * n + max(x, y)

    prior = -10.0
    known = {code(0, 250): 30.0, code(1, 251): 30.0, code(1, 520): 30.0}
    pairs = _Neighbours(known, n).crossing(ga, 250, find)
    assert sorted(pairs) == sorted([code(0, 250), code(1, 251)])  # not the pair to row 520
    assert _cross_check(ga, gb, known, set(), n, prior, -10.0, 0.15, pairs) is None
    known[code(2, 252)] = -40.0  # one cross pair is a hard conflict
    pairs = _Neighbours(known, n).crossing(gb, 0, find)
    assert _cross_check(ga, gb, known, set(), n, prior, -10.0, 0.15, pairs) == "conflict"


def test_an_edge_between_two_single_records_is_judged_as_the_cross_check_judges_it() -> None:
    n, prior, conflict, min_p = 10, -12.0, -8.0, 0.15
    evidence = [NAME_CONFLICT, -np.inf, -9.0, -7.9, 9.0, 9.6, 30.0, 12.0]
    pairs = [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (5, 6), (6, 7), (7, 8)]
    known = {a * n + b: ev for (a, b), ev in zip(pairs, evidence, strict=True)}
    vouched = {pairs[0][0] * n + pairs[0][1]}  # person evidence cannot outvote its own pair
    codes = np.array([a * n + b for a, b in pairs], dtype=np.int64)
    for kind in (PROBABILISTIC, IDENTIFIER):
        kinds = np.full(len(pairs), kind, dtype=np.int8)
        lone = _lone_verdicts(codes, kinds, known, prior, conflict, min_p)
        expected = [_cross_check([a], [b], known, vouched, n, prior, conflict,
                                 min_p if kind == PROBABILISTIC else 0.0)
                    for a, b in pairs]
        assert lone == expected
        if kind == PROBABILISTIC:  # the cases cover every verdict
            assert {None, "conflict", "weak_support"} == set(expected)
