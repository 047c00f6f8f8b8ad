"""Phone standardization: E.164, international prefixes, extensions, types and flags."""

from __future__ import annotations

import pytest

from ucp.domain.standardize import Context, standardize
from ucp.domain.standardize.phone import phone_match, standardize_phone

GB = Context(country="GB")


@pytest.mark.parametrize("raw", ["+44 20 7946 0958", "020 7946 0958", "0044-20-79460958"])
def test_one_number_three_spellings(raw: str) -> None:
    """The three spellings of a London number meet in one E.164 match form."""
    assert standardize("phone", raw, GB).match == "+442079460958"


def test_international_prefix_without_default_country() -> None:
    """00 is read as + even when the source has no country."""
    assert standardize("phone", "0044 20 7946 0958").match == "+442079460958"


def test_extension_is_kept_apart() -> None:
    """The extension goes to parts, never into the E.164 value."""
    result = standardize("phone", "201-555-0123 ext. 42", Context(country="US"))
    assert (result.value, result.parts["extension"]) == ("+12015550123", "42")


def test_number_type_is_reported() -> None:
    """Mobile and fixed-line numbers carry their type."""
    assert standardize("phone", "0171 1234567", Context(country="DE")).parts["type"] == "mobile"
    assert standardize("phone", "020 7946 0958", GB).parts["type"] == "fixed_line"


@pytest.mark.parametrize(
    ("raw", "ctx", "flag"),
    [
        ("0000000000", GB, "placeholder"),
        ("123456789", GB, "placeholder"),
        ("1111111111", GB, "placeholder"),
        ("020 7946 0958", Context(), "missing_country"),
        ("07700 900123", GB, "possible_only"),
        ("020 7946", GB, "invalid"),
        ("phone me", GB, "invalid"),
    ],
)
def test_quality_flags(raw: str, ctx: Context, flag: str) -> None:
    """Placeholders, missing country, possible-only and invalid numbers are flagged."""
    assert flag in standardize("phone", raw, ctx).flags


@pytest.mark.parametrize("country", [None, "GB", "US", "DE", "IT"])
def test_phone_match_is_the_standardized_match_without_type_detection(country: str | None,
                                                                      ) -> None:
    values = ["+39 06 1234 5678", "+39 0612345678", "0039 333 1234567",
              "+44 (0) 20 7946 0958", "020 7946 0958 ext 12", "+1 201-555-0123 x55",
              "+44 7700 900000", "+49 (0)30 123456", "00 44 20 7946 0958", "+999 123456789",
              "+44 20 7946 095", "+44 20 7946 09581234", "12", "555-555-5555", "n/a",
              "(240) 948-7416", "011 44 7992 042273", "+447507454490", "0151 496 0000"]
    matches = [standardize_phone(v, country).match for v in values]
    assert [phone_match(v, country) for v in values] == matches
    assert None in matches and any(matches)
