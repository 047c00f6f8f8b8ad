"""What the probabilistic engine is told: comparisons, blocking rules and thresholds.

A frozen, pydantic-free value so that `ucp.yaml` (outside the domain) can map onto it and the
model can record exactly what it was trained with. The defaults are a good person-data setup.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any


@dataclass(frozen=True, slots=True)
class ComparisonSpec:
    """One comparison: a `kind` (see `comparisons.KINDS`) applied to one feature of two records.

    `feature` names a column of the record table (`given`, `family`, `dob`, `email`, `phone`,
    `address`, `postcode`, `locality`, `region`, `gender`, or `x:<attribute>` for any other
    attribute); `tf` asks for a term-frequency adjustment on the exact level.
    """

    name: str
    kind: str
    feature: str
    tf: bool = False
    options: Mapping[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "feature": self.feature, "tf": self.tf,
                "options": dict(sorted(self.options.items()))}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ComparisonSpec:
        return cls(str(data["name"]), str(data["kind"]), str(data["feature"]),
                   bool(data.get("tf", False)), dict(data.get("options", {})))


@dataclass(frozen=True, slots=True)
class BlockingRule:
    """Candidate pairs share every one of `features` (all non-empty): one key string per record."""

    name: str
    features: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "features": list(self.features)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BlockingRule:
        return cls(str(data["name"]), tuple(data["features"]))


DEFAULT_COMPARISONS: tuple[ComparisonSpec, ...] = (
    ComparisonSpec("given_name", "given_name", "given", tf=True),
    ComparisonSpec("family_name", "family_name", "family", tf=True),
    ComparisonSpec("birth_date", "date", "dob", options={"years": 5}),
    ComparisonSpec("email", "email", "email", tf=True),
    ComparisonSpec("phone", "phone", "phone"),
    ComparisonSpec("address", "address", "address"),
    ComparisonSpec("locality", "text", "locality", tf=True),
    ComparisonSpec("postcode", "postcode", "postcode"),
    ComparisonSpec("region", "exact", "region"),
    ComparisonSpec("gender", "exact", "gender"),
)

DEFAULT_BLOCKING: tuple[BlockingRule, ...] = (
    BlockingRule("family_phonetic_year", ("family_nysiis", "birth_year")),
    BlockingRule("given_postcode", ("given", "postcode")),
    BlockingRule("names", ("name_pair",)),
    BlockingRule("initials_dob", ("given_initial", "family_initial", "dob")),
    BlockingRule("dob_postcode", ("dob", "postcode")),
    BlockingRule("email", ("email",)),
    BlockingRule("phone", ("phone",)),
    BlockingRule("address_key", ("house_number", "postcode")),
    BlockingRule("street_locality", ("street", "locality")),
    BlockingRule("given_phonetic_month", ("given_nysiis", "birth_month")),
    BlockingRule("family_locality", ("family", "locality")),
    BlockingRule("given_locality", ("given", "locality")),
    BlockingRule("given_family_phonetic", ("given_meta", "family_meta")),
    BlockingRule("canonical_dob", ("given_canon", "dob")),
    BlockingRule("dob", ("dob",)),
    BlockingRule("email_local", ("email_local",)),
    BlockingRule("given_phonetic_year", ("given_nysiis", "birth_year")),
    BlockingRule("locality_year", ("locality", "birth_year")),
)


#: hard conflicts for sources that are clean enough: another given name together with another
#: birth date or another email is another person (a household member, a twin)
HOUSEHOLD_SAFE: tuple[tuple[str, ...], ...] = (("given_name", "birth_date"),
                                               ("given_name", "email"))

#: comparisons whose clearly different values (their "else" level, both present) say "another
#: person" unless person evidence agrees: a household shares family name, address, landline,
#: sometimes an email; only the given name tells its members apart
DISTINCT_PERSON: tuple[str, ...] = ("given_name",)

#: evidence that belongs to one person, not to a household: (comparison, how many of its
#: strongest levels count). Every extra exact column (a national id) counts too.
PERSON_EVIDENCE: tuple[tuple[str, int], ...] = (("birth_date", 2), ("email", 2))


@dataclass(frozen=True, slots=True)
class ResolutionSettings:
    """Everything the engine needs besides the data and the trained parameters.

    Args:
        comparisons: the Fellegi–Sunter comparisons, each with its levels.
        blocking: rules producing candidate pairs (union over rules).
        auto: match probability at and above which two records are linked.
        review: match probability from which an unlinked pair is a review candidate.
        max_block_size: a block (records sharing a key) larger than this is skipped.
        conflict_weight: a pair whose evidence (match weight without the prior) is below this
            is a hard conflict: clustering never puts the two records in one person.
        hard_conflicts: sets of comparisons that, all at their last ("else") level with values
            on both sides, are a hard conflict, e.g. `(("given_name", "birth_date"),)` keeps
            household members apart (see `HOUSEHOLD_SAFE`). Off by default: heavily corrupted
            sources (febrl, Splink's fake data) have true duplicates that differ on both.
        distinct_person: comparisons at their "else" level (values on both sides: a given
            name that is no nickname, initial, typo or phonetic variant of the other) that make
            a pair a hard conflict unless some `person_evidence` agrees.
        person_evidence: (comparison, number of its strongest levels) that belong to one
            person (birth date exact or a typo of it, email exact or same local part); every
            extra exact column counts with all its agreeing levels.
        min_cross_probability: two groups join only when the mean match probability over all
            their cross pairs reaches this (average-linkage support; stops chaining).
        exact_columns: extra attributes compared exactly (with a one-typo level), e.g. an
            external national id that is not reliable enough to be a linkable identifier.
        text_columns: extra attributes compared as free text (Jaro–Winkler bands).
        u_sample_pairs: random pairs sampled to estimate u.
        em_max_iterations / em_tolerance: EM stopping rules.
        training_blocks: blocking rules for the EM sessions (each trains the comparisons
            not using the rule's features).
        generic_min_names: an identifier value held by records with at least this many
            unrelated names is generic and stops linking.
        component_pairs_limit: full pairwise scoring inside a component up to this many records.
    """

    comparisons: tuple[ComparisonSpec, ...] = DEFAULT_COMPARISONS
    blocking: tuple[BlockingRule, ...] = DEFAULT_BLOCKING
    auto: float = 0.6
    review: float = 0.3
    max_block_size: int = 500
    conflict_weight: float = -10.0
    hard_conflicts: tuple[tuple[str, ...], ...] = ()
    distinct_person: tuple[str, ...] = DISTINCT_PERSON
    person_evidence: tuple[tuple[str, int], ...] = PERSON_EVIDENCE
    min_cross_probability: float = 0.15
    exact_columns: tuple[str, ...] = ()
    text_columns: tuple[str, ...] = ()
    u_sample_pairs: int = 200_000
    em_max_iterations: int = 40
    em_tolerance: float = 1e-4
    training_blocks: tuple[BlockingRule, ...] = (
        BlockingRule("train_dob", ("dob",)),
        BlockingRule("train_names", ("given", "family")),
        BlockingRule("train_email", ("email",)),
        BlockingRule("train_postcode_number", ("postcode", "house_number")),
    )
    generic_min_names: int = 3
    component_pairs_limit: int = 400

    def __post_init__(self) -> None:
        if not 0.0 < self.review <= self.auto < 1.0:
            raise ValueError("thresholds must satisfy 0 < review <= auto < 1")
        names = [c.name for c in self.all_comparisons()]
        if len(names) != len(set(names)):
            raise ValueError(f"comparison names must be unique: {names}")

    def all_comparisons(self) -> tuple[ComparisonSpec, ...]:
        """The configured comparisons plus one per extra exact/text column."""
        extra = tuple(ComparisonSpec(c, "exact", f"x:{c}", options={"typo": 1})
                      for c in self.exact_columns)
        extra += tuple(ComparisonSpec(c, "text", f"x:{c}") for c in self.text_columns)
        return self.comparisons + extra

    def all_blocking(self) -> tuple[BlockingRule, ...]:
        """The configured rules plus one exact rule per extra exact column."""
        return self.blocking + tuple(BlockingRule(c, (f"x:{c}",)) for c in self.exact_columns)

    def with_thresholds(self, auto: float | None = None, review: float | None = None,
                        ) -> ResolutionSettings:
        """A copy with other thresholds (review is lowered to auto when above it)."""
        new_auto = self.auto if auto is None else auto
        new_review = min(self.review if review is None else review, new_auto)
        return replace(self, auto=new_auto, review=new_review)

    def to_dict(self) -> dict[str, Any]:
        """The parts that shape a trained model (thresholds are not part of a model)."""
        return {
            "comparisons": [c.to_dict() for c in self.all_comparisons()],
            "blocking": [b.to_dict() for b in self.all_blocking()],
        }
