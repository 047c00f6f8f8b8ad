"""PII masking: each value kind, and a whole profile view with nothing left behind."""

from __future__ import annotations

import orjson

from ucp.domain.masking import (
    mask_attribute,
    mask_date,
    mask_document,
    mask_email,
    mask_identifier,
    mask_name,
    mask_phone,
    mask_postcode,
    mask_profile,
)


def test_value_kinds() -> None:
    assert mask_email("ann.lee@example.com") == "a***@example.com"
    assert mask_phone("+442079460958") == "+44 **** ***958"
    assert mask_phone("+14155550111") == "+1 **** ***111"
    assert mask_name("Mary-Ann O'Brien") == "M. O."
    assert mask_date("1985-03-07") == "1985"
    assert mask_postcode("SW1A 1AA") == "SW1A ***"
    assert mask_postcode("94105") == "941**"


def test_attributes_and_identifiers() -> None:
    assert mask_attribute("birth_date", "1985-03-07") == "1985"
    assert mask_attribute("street", "1 Market St") == "***"
    assert mask_attribute("country", "GB") == "GB"
    assert mask_identifier("crm_id", "003A1234") == "00***"
    assert mask_identifier("email", "x@y.org") == "x***@y.org"


PROFILE = {
    "id": "p_1",
    "golden": {
        "given_name": {
            "value": "Annabel",
            "rule": "source_priority",
            "provenance": {"value": "Annabel", "source": "crm", "record": "C1"},
            "candidates": [{"value": "Anna", "source": "web", "record": "u1"}],
        },
        "email": {
            "value": "annabel@bluewren.co.uk",
            "rule": "most_recent",
            "provenance": {"value": "annabel@bluewren.co.uk", "record": "annabel@bluewren.co.uk"},
            "candidates": [],
        },
        "birth_date": {"value": "1985-03-07", "provenance": {"value": "1985-03-07"}},
        "country": {"value": "GB", "provenance": {"value": "GB"}},
    },
    "identifiers": [
        {"type": "email", "value": "annabel@bluewren.co.uk", "linkable": True},
        {"type": "phone", "value": "+447700900123", "linkable": True},
    ],
    "records": [
        {
            "source": "newsletter",
            "source_key": "annabel@bluewren.co.uk",
            "attributes": {
                "email": {"value": "annabel@bluewren.co.uk", "flags": []},
                "given_name": {"value": "Annabel", "flags": []},
            },
            "identifiers": [{"type": "email", "value": "annabel@bluewren.co.uk"}],
        }
    ],
    "events": [
        {
            "name": "Order Completed",
            "source": "orders",
            "key": "o-1",
            "properties": {
                "total": 42.5,
                "contact": "+447700900123",
                "customer": {"email": "other@x.org", "firstName": "Annabel"},
                "note": "call annabel@bluewren.co.uk today",
                "ip": "10.0.0.1",
                "created_at": "2026-05-01",
            },
        }
    ],
}


def test_a_masked_profile_holds_none_of_the_personal_values() -> None:
    masked = mask_profile(PROFILE)
    text = orjson.dumps(masked).decode().lower()
    for value in ("annabel", "annabel@", "+447700900123", "1985-03-07", "other@x.org", "10.0.0.1"):
        assert value not in text, value
    assert masked["golden"]["email"]["value"] == "a***@bluewren.co.uk"
    assert masked["golden"]["given_name"]["value"] == "A."
    assert masked["golden"]["country"]["value"] == "GB"
    assert masked["events"][0]["name"] == "Order Completed"
    assert masked["events"][0]["properties"]["total"] == 42.5
    assert masked["events"][0]["properties"]["created_at"] == "2026-05-01"
    assert masked["records"][0]["source_key"] == "a***@bluewren.co.uk"


def test_masking_is_idempotent() -> None:
    once = mask_profile(PROFILE)
    assert mask_profile(once) == once


def test_document_sweep_replaces_known_values() -> None:
    doc = {"history": [{"subject": "ann@x.org", "note": "about +447700900123"}]}
    assert mask_document(doc, {"+447700900123": "+44 **** ***123"}) == {
        "history": [{"subject": "a***@x.org", "note": "about +44 **** ***123"}]
    }
