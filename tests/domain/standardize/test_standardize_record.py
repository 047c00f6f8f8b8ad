"""Whole-record standardization: derived name and address parts, record country."""

from __future__ import annotations

from ucp.domain.standardize import Context, standardize_record


def test_full_name_fills_absent_name_parts() -> None:
    """given/family/middle name and title come from a parsed full name."""
    out = standardize_record({"full_name": "Dr. Robert J. O'Brien"}, Context())
    assert (
        out["title"].value,
        out["given_name"].match,
        out["middle_name"].value,
        out["family_name"].match,
    ) == ("Dr.", "robert", "J.", "obrien")


def test_given_parts_win_over_the_parsed_full_name() -> None:
    """An explicit given_name is not overwritten by the full name's parse."""
    out = standardize_record({"full_name": "Bob Smith", "given_name": "Robert"}, Context())
    assert out["given_name"].match == "robert"


def test_address_fills_absent_address_parts() -> None:
    """house_number, street, unit, locality and postcode come from a full address."""
    out = standardize_record(
        {"address": "Flat 3, 10 Downing Street, London SW1A 2AA"}, Context(country="GB")
    )
    assert {"10", "downing st", "3", "london", "SW1A2AA"} == {
        out[k].match for k in ("house_number", "street", "unit", "locality", "postcode")
    }


def test_record_country_drives_phone_and_postcode() -> None:
    """The record's own country beats the source default for phone and postcode."""
    out = standardize_record(
        {"country": "Deutschland", "phone": "030 1234567", "postcode": "1067"},
        Context(country="GB"),
    )
    assert (out["country"].value, out["phone"].match, out["postcode"].value) == (
        "DE",
        "+49301234567",
        "01067",
    )


def test_absent_and_unknown_attributes_are_skipped() -> None:
    """None, blank strings and keys outside the canonical attributes produce nothing."""
    out = standardize_record({"email": None, "phone": " ", "shoe_size": 42}, Context())
    assert out == {}
