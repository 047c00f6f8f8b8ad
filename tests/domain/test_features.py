"""Features of raw values: the dedupe fast paths give what the full standardizers give."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ucp.domain.features import ATTRIBUTE_KINDS, attribute_features, raw_features
from ucp.domain.standardize import Context, standardize

VALUES = {
    "phone": ["+44 20 7946 0958", "020 7946 0958", "(201) 555-0123", "011 44 7992 042273",
              "+39 06 1234 5678", "n/a", "12", "+1 201-555-0123 x55"],
    "email": ["John.Smith+news@GoogleMail.com", "info@acme.de", "a@@b.com", "Zoë@müller.de",
              "test@example.com", "<mailto:Ann@Example.ORG>"],
    "street": ["10 Downing Street", "Hauptstraße 5", "Flat 3, 10 DOWNING ST", "12 rue de la Paix",
               "4545 Williams Extension #7", "PO Box 12", "x", "123"],
    "given_name": ["Bob", "ANNE-marie", "J."],
    "birth_date": ["1980-01-02", "02/03/1981", "not a date"],
    "postcode": ["SW1A 2AA", "10115", "62704-1234"],
}


@pytest.mark.parametrize("country", [None, "GB", "US", "DE"])
@pytest.mark.parametrize("attribute", sorted(VALUES))
def test_raw_features_are_the_features_of_the_standardized_value(attribute: str,
                                                                 country: str | None) -> None:
    ctx = Context(country=country)
    for raw in VALUES[attribute]:
        full = attribute_features(attribute, standardize(ATTRIBUTE_KINDS[attribute], raw, ctx))
        assert raw_features(attribute, raw, ctx) == full, raw


@settings(max_examples=200, deadline=None)
@given(attribute=st.sampled_from(["phone", "email", "street"]), raw=st.text(max_size=30),
       country=st.sampled_from([None, "GB", "US", "FR"]))
def test_raw_features_of_any_text_match_the_full_path(attribute: str, raw: str,
                                                      country: str | None) -> None:
    ctx = Context(country=country)
    full = attribute_features(attribute, standardize(ATTRIBUTE_KINDS[attribute], raw, ctx))
    assert raw_features(attribute, raw, ctx) == full
