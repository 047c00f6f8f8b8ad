"""Addresses and postcodes: parts, per-locale abbreviations, postcode rules, countries."""

from __future__ import annotations

import pytest

from ucp.domain.standardize import Context, standardize


@pytest.mark.parametrize(
    ("raw", "country", "street_match"),
    [
        ("Hauptstraße 5", "DE", "5 hauptstr"),
        ("Hauptstr. 5", "DE", "5 hauptstr"),
        ("HAUPTSTRASSE 5", "DE", "5 hauptstr"),
        ("10 Downing Street", "GB", "10 downing st"),
        ("10 Downing St.", "GB", "10 downing st"),
        ("12 rue de la Paix", "FR", "12 rue de la paix"),
        ("5 Avenue Foch", "FR", "5 ave foch"),
        ("5 av. Foch", "FR", "5 ave foch"),
        ("500 W Sunset Boulevard", "US", "500 w sunset blvd"),
        ("500 West Sunset Blvd", "US", "500 w sunset blvd"),
        ("9 Mill Road", "GB", "9 mill rd"),
    ],
)
def test_street_types_and_directionals_normalized_per_locale(
    raw: str, country: str, street_match: str
) -> None:
    """Street/St./Str., Avenue/Ave, Road/Rd, Boulevard/Blvd, West/W meet; rue stays."""
    assert street_match == standardize("address", raw, Context(country=country)).match


@pytest.mark.parametrize(
    "raw",
    [
        "Flat 3, 10 Downing Street",
        "10 Downing Street Apt 3",
        "10 Downing Street #3",
        "10 Downing Street, Unit 3",
    ],
)
def test_unit_words_meet(raw: str) -> None:
    """Flat, Apartment/Apt, # and Unit all give the unit part and 'unit N' in the match."""
    result = standardize("address", raw, Context(country="GB"))
    assert (result.parts["unit"], result.match) == ("3", "10 downing st unit 3")


def test_full_us_address_uses_usaddress_parts() -> None:
    """A one-line US address is split into number, street, unit, city, state and ZIP."""
    parts = standardize("address", "123 Main St Apt 4 Springfield IL 62704", Context()).parts
    assert dict(parts) == {
        "house_number": "123",
        "street": "Main St",
        "unit": "4",
        "locality": "Springfield",
        "region": "IL",
        "postcode": "62704",
        "country": "US",
    }


def test_country_in_address_is_iso_code() -> None:
    """A trailing country name becomes its alpha-2 code in parts and value."""
    result = standardize("address", "12 rue de la Paix, 75002 Paris, Frankreich")
    assert tuple(result.parts[k] for k in ("country", "postcode", "locality")) == (
        "FR",
        "75002",
        "Paris",
    )


@pytest.mark.parametrize(
    ("raw", "country", "value", "match"),
    [
        ("sw1a1aa", "GB", "SW1A 1AA", "SW1A1AA"),
        ("k1a0b1", "CA", "K1A 0B1", "K1A0B1"),
        ("62704-1234", "US", "62704-1234", "62704"),
        ("2134", "US", "02134", "02134"),
        ("D-10115", "DE", "10115", "10115"),
        ("75002", "FR", "75002", "75002"),
        ("2000", "AU", "2000", "2000"),
        ("1012 ab", "NL", "1012 AB", "1012AB"),
    ],
)
def test_postcodes_per_country(raw: str, country: str, value: str, match: str) -> None:
    """Postcodes are validated and normalized by the record's country."""
    result = standardize("postcode", raw, Context(country=country))
    assert (value, match) == (result.value, result.match)


@pytest.mark.parametrize(("raw", "country"), [("12345", "GB"), ("ABCDE", "US"), ("123", "DE")])
def test_postcode_not_fitting_the_country_is_invalid(raw: str, country: str) -> None:
    """A postcode that breaks its country's pattern is flagged and unmatched."""
    result = standardize("postcode", raw, Context(country=country))
    assert (result.match, result.flags) == (None, ("invalid",))
