"""Golden records: the best value per attribute, each with provenance (design.md §4).

Rules narrow the candidate values in order; the rule that leaves a single value is the one that
"chose" it. Losing values are kept. Multi-valued attributes keep every distinct value with a
primary chosen the same way.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

RULES: Final = ("valid_only", "source_priority", "most_recent", "most_frequent", "most_complete")
MULTI_VALUED: Final = frozenset({"email", "phone", "address", "street"})

#: sensible defaults per attribute; `*` applies to the rest
DEFAULT_RULES: Final[Mapping[str, tuple[str, ...]]] = {
    "email": ("valid_only", "most_recent", "source_priority"),
    "phone": ("valid_only", "most_recent", "source_priority"),
    "birth_date": ("valid_only", "most_frequent", "source_priority"),
    "given_name": ("valid_only", "most_complete", "source_priority", "most_frequent"),
    "family_name": ("valid_only", "most_recent", "source_priority"),
    "*": ("valid_only", "source_priority", "most_recent", "most_frequent"),
}

_INVALID_FLAGS: Final = frozenset({"invalid", "placeholder"})


@dataclass(frozen=True, slots=True)
class Candidate:
    """One record's value for an attribute."""

    value: str
    match: str | None
    source: str
    source_key: str
    observed_at: str
    trust_rank: int
    flags: tuple[str, ...] = ()

    @property
    def valid(self) -> bool:
        return not _INVALID_FLAGS & set(self.flags)

    @property
    def identity(self) -> str:
        return self.match or self.value.casefold()

    def provenance(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "source": self.source,
            "record": self.source_key,
            "observed_at": self.observed_at,
            "flags": list(self.flags),
        }


@dataclass(frozen=True, slots=True)
class GoldenValue:
    """The chosen value of one attribute, the rule that chose it, and the losers."""

    attribute: str
    value: str
    rule: str
    chosen: Candidate
    others: tuple[Candidate, ...] = ()
    values: tuple[Candidate, ...] = field(default_factory=tuple)  # multi-valued: all distinct

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "value": self.value,
            "rule": self.rule,
            "provenance": self.chosen.provenance(),
            "candidates": [c.provenance() for c in self.others],
        }
        if self.attribute in MULTI_VALUED:
            body["values"] = [
                {**c.provenance(), "primary": c.identity == self.chosen.identity}
                for c in self.values
            ]
        return body


def _valid_only(cands: Sequence[Candidate]) -> list[Candidate]:
    return [c for c in cands if c.valid]


def _best(key: Callable[[Candidate], Any]) -> Callable[[Sequence[Candidate]], list[Candidate]]:
    def narrow(cands: Sequence[Candidate]) -> list[Candidate]:
        top = max(key(c) for c in cands)
        return [c for c in cands if key(c) == top]

    return narrow


def _most_frequent(cands: Sequence[Candidate]) -> list[Candidate]:
    counts = Counter(c.identity for c in cands)
    top = max(counts.values())
    return [c for c in cands if counts[c.identity] == top]


_NARROW: Final[Mapping[str, Callable[[Sequence[Candidate]], list[Candidate]]]] = {
    "valid_only": _valid_only,
    "source_priority": _best(lambda c: -c.trust_rank),
    "most_recent": _best(lambda c: c.observed_at),
    "most_frequent": _most_frequent,
    "most_complete": _best(lambda c: len(c.value)),
}


def choose(
    attribute: str,
    candidates: Sequence[Candidate],
    rules: Sequence[str],
    pin: Candidate | None = None,
) -> GoldenValue | None:
    """Pick the golden value of one attribute; None when no candidate survives `valid_only`."""
    ordered = sorted(candidates, key=lambda c: (c.source, c.source_key, c.value))
    if pin is not None:
        return GoldenValue(
            attribute, pin.value, "steward_pin", pin, tuple(ordered), _distinct([pin, *ordered])
        )
    if not ordered:
        return None
    pool, rule = list(ordered), "only_value"
    for name in rules:
        narrowed = _NARROW[name](pool)
        if not narrowed:
            return None
        if len({c.identity for c in narrowed}) < len({c.identity for c in pool}):
            rule = name
        pool = narrowed
        if len({c.identity for c in pool}) == 1:
            break
    else:
        if len({c.identity for c in pool}) > 1:
            rule = "tie_break"
    chosen = pool[0]
    others = tuple(c for c in ordered if c is not chosen)
    distinct = _distinct([chosen, *(c for c in ordered if c.valid or "valid_only" not in rules)])
    return GoldenValue(attribute, chosen.value, rule, chosen, others, distinct)


def _distinct(cands: Sequence[Candidate]) -> tuple[Candidate, ...]:
    seen: dict[str, Candidate] = {}
    for c in cands:
        seen.setdefault(c.identity, c)
    return tuple(seen.values())


def golden_record(
    candidates: Mapping[str, Sequence[Candidate]],
    rules: Mapping[str, Sequence[str]],
    pins: Mapping[str, Candidate] | None = None,
) -> dict[str, GoldenValue]:
    """The golden value of every attribute that has candidates (or a pin)."""
    pins = pins or {}
    out: dict[str, GoldenValue] = {}
    for attribute in sorted(set(candidates) | set(pins)):
        attr_rules = rules.get(attribute) or rules.get("*") or DEFAULT_RULES["*"]
        chosen = choose(attribute, candidates.get(attribute, ()), attr_rules, pins.get(attribute))
        if chosen is not None:
            out[attribute] = chosen
    return out
