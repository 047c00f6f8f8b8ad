"""Deterministic resolution and stable profile ids (pure)."""

from __future__ import annotations

import itertools
import random

from ucp.domain.model import Identifier, RecordKey, ResolvableRecord
from ucp.domain.resolution import DeterministicResolver, IdentifierPolicy, assign_profiles


def rec(key: str, *idents: str) -> ResolvableRecord:
    return ResolvableRecord(
        RecordKey("s", key),
        tuple(Identifier(*i.split(":", 1)) for i in idents),
    )


RESOLVER = DeterministicResolver(
    {
        "email": IdentifierPolicy(
            "email", max_per_profile=2, priority=10, blocked=frozenset({"x@x"})
        ),
        "phone": IdentifierPolicy("phone", priority=20),
    }
)


def partition(records: list[ResolvableRecord]) -> set[frozenset[str]]:
    return {frozenset(k.source_key for k in c.members) for c in RESOLVER.cluster(records)}


def test_shared_identifier_links_and_blocked_value_does_not() -> None:
    records = [
        rec("a", "email:ann@x"),
        rec("b", "email:ann@x"),
        rec("c", "email:x@x"),
        rec("d", "email:x@x"),
    ]
    assert partition(records) == {frozenset("ab"), frozenset("c"), frozenset("d")}


def test_max_per_profile_stops_a_chain_of_emails() -> None:
    # a-b share phone 1, b-c share phone 2: c would bring a third email
    records = [
        rec("a", "email:1@x", "phone:1"),
        rec("b", "email:2@x", "phone:1", "phone:2"),
        rec("c", "email:3@x", "phone:2"),
    ]
    assert partition(records) == {frozenset("ab"), frozenset("c")}


def test_partition_does_not_depend_on_input_order() -> None:
    records = [
        rec("a", "email:1@x", "phone:1"),
        rec("b", "email:2@x", "phone:1", "phone:2"),
        rec("c", "email:3@x", "phone:2"),
        rec("d", "email:3@x"),
        rec("e", "phone:9"),
    ]
    expected = partition(records)
    for perm in itertools.permutations(records):
        assert partition(list(perm)) == expected


def test_links_carry_the_identifier_type_as_evidence() -> None:
    (cluster,) = RESOLVER.cluster([rec("a", "email:ann@x"), rec("b", "email:ann@x")])
    (link,) = cluster.links
    assert (link.a.source_key, link.b.source_key, link.kind, link.evidence) == (
        "a",
        "b",
        "identifier",
        {"type": "email"},
    )


def K(k: str) -> RecordKey:
    return RecordKey("s", k)


def ids(prefix: str = "n"):
    counter = itertools.count(1)
    return lambda: f"{prefix}{next(counter)}"


def test_merge_keeps_the_oldest_profile_and_aliases_the_other() -> None:
    result = assign_profiles(
        [frozenset({K("a"), K("b")})],
        {K("a"): "p2", K("b"): "p1"},
        {"p1": "2020", "p2": "2021"},
        ids(),
    )
    assert result.membership == {K("a"): "p1", K("b"): "p1"}
    assert result.aliases == {"p2": "p1"}
    assert [c.type for c in result.changes] == ["profile.merged"]


def test_split_leaves_the_id_with_the_largest_part() -> None:
    result = assign_profiles(
        [frozenset({K("a")}), frozenset({K("b"), K("c")})],
        {K("a"): "p1", K("b"): "p1", K("c"): "p1"},
        {"p1": "2020"},
        ids(),
    )
    assert result.membership == {K("a"): "n1", K("b"): "p1", K("c"): "p1"}
    split = [c for c in result.changes if c.type == "profile.split"]
    assert split[0].data == {"from": "p1", "into": ["n1"]}


def test_new_records_make_a_created_profile_and_joining_updates() -> None:
    result = assign_profiles(
        [frozenset({K("a"), K("b")}), frozenset({K("z")})],
        {K("a"): "p1", K("b"): None, K("z"): None},
        {"p1": "2020"},
        ids(),
    )
    assert result.membership[K("b")] == "p1"
    assert result.membership[K("z")] == "n1"
    assert sorted(c.type for c in result.changes) == ["profile.created", "profile.updated"]


def test_unchanged_cluster_emits_nothing() -> None:
    result = assign_profiles([frozenset({K("a")})], {K("a"): "p1"}, {"p1": "1"}, ids())
    assert result.changes == () and result.aliases == {}


def test_random_partitions_never_lose_or_duplicate_records() -> None:
    rng = random.Random(7)
    keys = [K(str(i)) for i in range(30)]
    for _ in range(50):
        prev = {k: rng.choice(["p1", "p2", "p3", None]) for k in keys}
        groups: dict[int, set[RecordKey]] = {}
        for k in keys:
            groups.setdefault(rng.randrange(6), set()).add(k)
        result = assign_profiles(
            [frozenset(g) for g in groups.values()], prev, {"p1": "1", "p2": "2", "p3": "3"}, ids()
        )
        assert set(result.membership) == set(keys)
        assert len(set(result.membership.values())) == len(groups)
        assert not set(result.membership.values()) & set(result.aliases)


def test_cannot_link_keeps_records_apart_despite_a_shared_identifier() -> None:
    from ucp.domain.resolution.resolver import Constraints

    records = [rec("a", "email:1@x"), rec("b", "email:1@x"), rec("c", "email:1@x")]
    cons = Constraints(cannot_link=frozenset({Constraints.pair(K("a"), K("c"))}))
    clusters = {frozenset(k.source_key for k in c.members) for c in RESOLVER.cluster(records, cons)}
    assert clusters == {frozenset("ab"), frozenset("c")}


def test_must_link_joins_records_without_shared_identifiers() -> None:
    from ucp.domain.resolution.resolver import Constraints

    records = [rec("a", "email:1@x"), rec("b", "email:2@x")]
    cons = Constraints(must_link=frozenset({Constraints.pair(K("a"), K("b"))}))
    (cluster,) = RESOLVER.cluster(records, cons)
    assert cluster.members == {K("a"), K("b")}
    assert cluster.links[0].kind == "manual"
