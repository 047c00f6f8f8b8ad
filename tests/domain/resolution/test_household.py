"""Household safety by default: clearly different given names are two people unless something
that belongs to one person agrees; shared values; a postcode counts the locality once."""

from __future__ import annotations

import numpy as np

from ucp.domain.resolution import Model, ProbabilisticResolver, ResolutionSettings
from ucp.domain.resolution.clustering import hard_conflicts
from ucp.domain.resolution.generic import shared_rows
from ucp.domain.resolution.scoring import score_pairs
from ucp.domain.resolution.table import RecordTable

from .people import person

SETTINGS = ResolutionSettings()
HOME = {"family_name": "Smith", "street": "12 High Street", "locality": "Leeds",
        "postcode": "LS1 4AB", "phone": "0113 496 0000"}


def _conflicts(records: list) -> np.ndarray:  # type: ignore[type-arg]
    table = RecordTable.from_records(records)
    model = Model.untrained(SETTINGS)
    scored = score_pairs(model, table, np.array([0]), np.array([1]))
    return hard_conflicts(model, SETTINGS, table, scored)


def test_household_members_are_a_hard_conflict_by_default() -> None:
    a = person("a", given_name="John", email="john@mail.com", **HOME)
    b = person("b", given_name="Mary", email="mary@mail.com", **HOME)
    assert _conflicts([a, b])[0]


def test_name_variants_swaps_and_person_evidence_are_no_conflict() -> None:
    a = person("a", given_name="Olivia", email="o@mail.com", **HOME)
    assert not _conflicts([a, person("b", given_name="Ilivoa", **HOME)])[0]  # scrambled
    assert not _conflicts([a, person("c", given_name="O", **HOME)])[0]  # initial
    swapped = person("d", given_name="Smith", family_name="Olivia")
    assert not _conflicts([person("e", given_name="Olivia", family_name="Smith"), swapped])[0]
    # the same birth date is one person's evidence (a replaced given name), twins aside
    dob = {"birth_date": "1980-02-03"}
    assert not _conflicts([person("g", given_name="Jo", **dob, **HOME),
                           person("h", given_name="Kim", **dob, **HOME)])[0]


def test_a_family_mailbox_is_shared_and_no_person_evidence() -> None:
    box = {"email": "smithfamily@mail.com", **HOME}
    records = [person("a", given_name="John", **box), person("b", given_name="Mary", **box),
               person("c", given_name="Zoe", email="zoe@mail.com", **HOME),
               person("d", given_name="Zoë", email="zoe@mail.com", **HOME)]
    table = RecordTable.from_records(records)
    assert shared_rows(table, "email").tolist() == [True, True, False, False]
    assert _conflicts(records[:2])[0]


def test_household_members_stay_apart_even_with_a_trained_looking_model() -> None:
    records = [person("a", given_name="John", email="john@mail.com", **HOME),
               person("b", given_name="Mary", email="mary@mail.com", **HOME),
               person("c", given_name="Jon", email="john@mail.com", **HOME)]
    resolver = ProbabilisticResolver(Model.untrained(SETTINGS), SETTINGS, {})
    found = {frozenset(k.source_key for k in c.members) for c in resolver.cluster(records)}
    assert frozenset({"b"}) in found


def test_an_exact_postcode_makes_the_locality_agreement_redundant() -> None:
    a = person("a", given_name="John", family_name="Smith", locality="Leeds", postcode="LS1 4AB")
    b = person("b", given_name="Jim", family_name="Brown", locality="Leeds", postcode="LS1 4AB")
    c = person("c", given_name="Jim", family_name="Brown", locality="Leeds", postcode="LS9 9ZZ")
    table = RecordTable.from_records([a, b, c])
    model = Model.untrained(SETTINGS)
    scored = score_pairs(model, table, np.array([0, 0]), np.array([1, 2]))
    locality = [p.name for p in model.params].index("locality")
    assert scored.per[0, locality] == 0.0 and scored.per[1, locality] > 0.0


def _partition(records: list) -> set[frozenset[str]]:  # type: ignore[type-arg]
    resolver = ProbabilisticResolver(Model.untrained(SETTINGS), SETTINGS, {})
    return {frozenset(k.source_key for k in c.members) for c in resolver.cluster(records)}


def test_a_minority_name_conflict_is_outvoted_by_person_evidence() -> None:
    # one person, four records; the fifth has a replaced given name: it agrees with three of
    # them on the birth date and conflicts on names only with the one whose date is missing
    dob = {"birth_date": "1972-06-15"}
    records = [person("org", given_name="Joel", **dob, **HOME),
               person("d1", given_name="Joel", **dob, **HOME),
               person("d2", given_name="Joel", **dob, **HOME),
               person("d3", given_name="Joel", **HOME),
               person("odd", given_name="Emmeline", **dob, **HOME)]
    assert frozenset({"org", "d1", "d2", "d3", "odd"}) in _partition(records)


def test_name_conflicts_not_outvoted_keep_household_members_apart() -> None:
    # the spouse agrees on nothing that belongs to one person: every cross pair conflicts
    records = [person("j1", given_name="John", birth_date="1970-01-02", **HOME),
               person("j2", given_name="John", birth_date="1970-01-02", **HOME),
               person("m1", given_name="Mary", birth_date="1972-05-06", **HOME)]
    assert frozenset({"m1"}) in _partition(records)
    # as many name conflicts as person agreements: still refused
    dob = {"birth_date": "1972-06-15"}
    tie = [person("a", given_name="Joel", **dob, **HOME), person("b", given_name="Joel", **HOME),
           person("c", given_name="Emmeline", **dob, **HOME)]
    assert frozenset({"c"}) in _partition(tie)
