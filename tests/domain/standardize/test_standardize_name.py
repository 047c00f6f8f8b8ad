"""Person names: parsing, display case, folded keys, nicknames, phonetics and flags."""

from __future__ import annotations

import pytest

from ucp.domain.standardize import Context, name_canonical_set, standardize


@pytest.mark.parametrize("raw", ["BOB o'brien", "Robert O’Brien", "O'BRIEN, Robert J."])
def test_three_spellings_meet_on_family_key_and_canonical_given(raw: str) -> None:
    """Nickname, curly apostrophe, comma order and capitals all reach the same person."""
    result = standardize("name", raw)
    assert (result.parts["family_key"], result.parts["canonical"]) == ("obrien", "robert")


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("ANNA VAN DER BERG", "Anna van der Berg"),
        ("JUAN DE LA CRUZ", "Juan de la Cruz"),
        ("charles d'artagnan", "Charles d'Artagnan"),
        ("angus macdonald", "Angus MacDonald"),
        ("MARY MCDONALD", "Mary McDonald"),
        ("Robert DeNiro", "Robert DeNiro"),
        ("MÜLLER Hans", "Hans Müller"),
    ],
)
def test_display_case_keeps_particles_and_prefixes(raw: str, value: str) -> None:
    """All-caps/all-lower input is fixed; particles and Mc/Mac/O'/d' prefixes survive."""
    assert value == standardize("name", raw).value


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("Müller", "muller"),
        ("Ørsted", "orsted"),
        ("O’Brien", "obrien"),
        ("Smith-Jones", "smithjones"),
    ],
)
def test_match_key_folds_unicode_and_punctuation(raw: str, key: str) -> None:
    """Accents, apostrophes and hyphens disappear from the match key."""
    assert key == standardize("family_name", raw).match


def test_canonical_set_of_nicknames() -> None:
    """Bob, Rob and Bobby map to robert; a name with several formal forms gives a set."""
    assert {"robert"} == name_canonical_set("Bob") == name_canonical_set("bobby")
    assert {"robert"} == name_canonical_set("Robert")
    assert {"catherine", "katherine"} <= name_canonical_set("Kate")
    assert {"john"} == name_canonical_set("John")
    assert frozenset() == name_canonical_set("")


def test_given_name_parts_carry_canonical_and_phonetic_keys() -> None:
    """Parts hold the folded key, the canonical set and Metaphone/NYSIIS keys for blocking."""
    parts = standardize("given_name", "Bobby").parts
    assert (parts["canonical"], parts["key"]) == ("robert", "bobby")
    assert parts["metaphone"] and parts["nysiis"]


def test_full_name_parts() -> None:
    """A full name is split into title, given, middle, family and suffix."""
    parts = standardize("name", "Dr. John A. Smith Jr.", Context()).parts
    assert tuple(parts[k] for k in ("title", "given", "middle", "family", "suffix")) == (
        "Dr.",
        "John",
        "A.",
        "Smith",
        "Jr.",
    )


@pytest.mark.parametrize("raw", ["ACME Ltd", "Müller GmbH", "Renault S.A.", "Smith & Sons"])
def test_company_like_names_are_flagged(raw: str) -> None:
    """Legal forms and '& Sons' mark a name as a company, not a person."""
    assert "company_like" in standardize("name", raw).flags


@pytest.mark.parametrize("raw", ["test", "N/A", "unknown", "xxx", "asdf", "Test Test"])
def test_placeholder_names_are_flagged(raw: str) -> None:
    """Stand-in names carry the placeholder flag and no match form."""
    result = standardize("name", raw)
    assert (result.match, result.flags) == (None, ("placeholder",))
