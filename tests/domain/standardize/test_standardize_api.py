"""The public surface of ucp.domain.standardize and the Standardized value type."""

from __future__ import annotations

import dataclasses

import pytest

import ucp.domain.standardize as package
from ucp.domain.attributes import CANONICAL_ATTRIBUTES
from ucp.domain.standardize import KINDS, Context, Standardized, standardize


def test_all_lists_exactly_the_public_names() -> None:
    """__all__ is the curated public surface and every name in it exists."""
    expected = {
        "KINDS",
        "Context",
        "DateOrder",
        "Standardized",
        "name_canonical_set",
        "standardize",
        "standardize_record",
    }
    assert expected == set(package.__all__)
    assert all(hasattr(package, name) for name in package.__all__)


def test_every_canonical_attribute_kind_is_a_known_kind() -> None:
    """standardize_record can dispatch every attribute of CANONICAL_ATTRIBUTES."""
    assert set(CANONICAL_ATTRIBUTES.values()) <= set(KINDS)


def test_unknown_kind_is_the_only_error() -> None:
    """An unknown kind raises ValueError naming the valid kinds."""
    with pytest.raises(ValueError, match="kinds are: address"):
        standardize("shoe_size", "42")


@pytest.mark.parametrize("kind", KINDS)
def test_none_is_absent_not_invalid(kind: str) -> None:
    """None gives an empty result without flags for every kind."""
    assert standardize(kind, None) == Standardized(kind, None, None, None, {}, ())


def test_numbers_are_accepted_as_raw_values() -> None:
    """int and integral float raw values are read as their digits."""
    assert standardize("postcode", 10115, Context(country="DE")).value == "10115"
    assert standardize("phone", 2015550123.0, Context(country="US")).match == "+12015550123"
    assert standardize("timestamp", 1615112130).value == "2021-03-07T10:15:30Z"


def test_to_dict_is_json_ready() -> None:
    """to_dict gives plain dict/list values with the six documented keys."""
    result = standardize("email", "Info@Acme.com")
    assert result.to_dict() == {
        "kind": "email",
        "input": "Info@Acme.com",
        "value": "info@acme.com",
        "match": "info@acme.com",
        "parts": {"local": "info", "domain": "acme.com"},
        "flags": ["role_account"],
    }


def test_valid_means_value_without_invalid_or_placeholder() -> None:
    """valid is False for absent, invalid and placeholder values; other flags do not matter."""
    assert standardize("email", "info@acme.com").valid
    assert not standardize("email", "test@test.com").valid
    assert not standardize("email", "nope").valid
    assert not standardize("email", None).valid


def test_results_are_immutable() -> None:
    """Standardized and Context are frozen; parts cannot be changed through the cache."""
    result = standardize("name", "Robert O'Brien")
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.value = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        result.parts["given"] = "x"  # type: ignore[index]
