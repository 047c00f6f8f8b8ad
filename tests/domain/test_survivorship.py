"""Survivorship: each rule, provenance, losers kept, multi-valued attributes, pins."""

from __future__ import annotations

from ucp.domain.survivorship import Candidate, choose, golden_record


def cand(
    value: str,
    source: str = "crm",
    key: str = "1",
    at: str = "2024-01-01",
    rank: int = 1,
    flags: tuple[str, ...] = (),
    match: str | None = None,
) -> Candidate:
    return Candidate(value, match, source, key, at, rank, flags)


def test_source_priority_prefers_the_most_trusted_source() -> None:
    g = choose(
        "family_name",
        [cand("Lee", "shop", "s1", rank=2), cand("Li", "crm", "c1", rank=1)],
        ["source_priority"],
    )
    assert g is not None and (g.value, g.rule, g.chosen.source) == ("Li", "source_priority", "crm")
    assert [c.value for c in g.others] == ["Lee"]


def test_most_recent_uses_observed_time() -> None:
    g = choose(
        "email",
        [cand("old@x.io", at="2020-01-01", key="a"), cand("new@x.io", at="2025-01-01", key="b")],
        ["most_recent"],
    )
    assert g is not None and (g.value, g.rule) == ("new@x.io", "most_recent")


def test_most_frequent_counts_matching_forms() -> None:
    g = choose(
        "birth_date",
        [
            cand("1980-01-02", key="a"),
            cand("1980-01-02", key="b"),
            cand("1980-02-01", key="c", rank=0),
        ],
        ["most_frequent", "source_priority"],
    )
    assert g is not None and (g.value, g.rule) == ("1980-01-02", "most_frequent")


def test_most_complete_prefers_the_longer_value() -> None:
    g = choose("given_name", [cand("R", key="a"), cand("Robert", key="b")], ["most_complete"])
    assert g is not None and g.value == "Robert"


def test_valid_only_drops_flagged_values_and_may_leave_nothing() -> None:
    g = choose(
        "email",
        [
            cand("test@test.com", flags=("placeholder",), key="a", at="2030"),
            cand("ann@x.io", key="b"),
        ],
        ["valid_only", "most_recent"],
    )
    assert g is not None and (g.value, g.rule) == ("ann@x.io", "valid_only")
    assert choose("email", [cand("n/a", flags=("invalid",))], ["valid_only"]) is None


def test_a_steward_pin_overrides_every_rule() -> None:
    pin = cand("Robert", "steward", "p_1")
    g = choose("given_name", [cand("Bob", rank=1)], ["source_priority"], pin=pin)
    assert g is not None and (g.value, g.rule) == ("Robert", "steward_pin")


def test_multi_valued_attributes_keep_all_distinct_values_with_a_primary() -> None:
    golden = golden_record(
        {
            "email": [
                cand("a@x.io", key="1", at="2020", match="a@x.io"),
                cand("A@X.IO", key="2", at="2019", match="a@x.io"),
                cand("b@y.io", key="3", at="2024", match="b@y.io"),
            ]
        },
        {"email": ["valid_only", "most_recent"]},
    )
    body = golden["email"].to_dict()
    assert body["value"] == "b@y.io"
    assert [(v["value"], v["primary"]) for v in body["values"]] == [
        ("b@y.io", True),
        ("a@x.io", False),
    ]


def test_result_does_not_depend_on_candidate_order() -> None:
    cands = [cand("x", key="1"), cand("y", key="2"), cand("z", key="3")]
    first = choose("locality", cands, ["source_priority"])
    again = choose("locality", list(reversed(cands)), ["source_priority"])
    assert first is not None and again is not None
    assert (first.value, first.rule) == (again.value, again.rule) == ("x", "tie_break")
