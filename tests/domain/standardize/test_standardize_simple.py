"""Small standardizers: gender, country and free text."""

from __future__ import annotations

import pytest

from ucp.domain.standardize import standardize


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("m", "M"),
        ("Male", "M"),
        ("Herr", "M"),
        ("monsieur", "M"),
        ("MR", "M"),
        ("f", "F"),
        ("female", "F"),
        ("w", "F"),
        ("weiblich", "F"),
        ("femme", "F"),
        ("Mrs", "F"),
        ("ms", "F"),
        ("divers", "X"),
    ],
)
def test_gender_codes(raw: str, value: str) -> None:
    """Gender words in English, German and French map to M/F/X."""
    assert value == standardize("gender", raw).value


def test_unknown_gender_is_flagged() -> None:
    """A word that is no gender gives no value and the unknown flag."""
    assert (standardize("gender", "blue").value, standardize("gender", "blue").flags) == (
        None,
        ("unknown",),
    )


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("UK", "GB"),
        ("England", "GB"),
        ("USA", "US"),
        ("United States", "US"),
        ("Deutschland", "DE"),
        ("Allemagne", "DE"),
        ("Germany", "DE"),
        ("France", "FR"),
        ("fra", "FR"),
        ("de", "DE"),
        ("Côte d'Ivoire", "CI"),
    ],
)
def test_country_names_and_codes(raw: str, code: str) -> None:
    """Country names, aliases, alpha-2 and alpha-3 codes become alpha-2."""
    assert code == standardize("country", raw).value


@pytest.mark.parametrize("raw", ["", "  ", "n/a", "NULL", "none", "-", "?"])
def test_text_placeholders(raw: str) -> None:
    """Empty and stand-in text is a placeholder."""
    assert standardize("text", raw).flags == ("placeholder",)


def test_text_is_trimmed_collapsed_and_nfc() -> None:
    """Whitespace is collapsed and decomposed accents are composed."""
    assert (
        "Cafe\u0301 de Flore".replace("e\u0301", "é")
        == standardize("text", "  Cafe\u0301   de\tFlore ").value
    )
