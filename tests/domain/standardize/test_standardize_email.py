"""Email standardization: syntax, case, IDNA, provider matching rules and quality flags."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ucp.domain.standardize import standardize
from ucp.domain.standardize.email import email_match, standardize_email


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        ("J.O.H.N+tag@googlemail.com", "john@gmail.com"),
        ("john+tag@outlook.com", "john@outlook.com"),
        ("john-tag@yahoo.com", "john@yahoo.com"),
        ("john+tag@acme.com", "john+tag@acme.com"),
        ("+tag@gmail.com", "+tag@gmail.com"),
    ],
)
def test_provider_rules_in_match_form(raw: str, match: str) -> None:
    """Dots and +tags are dropped only where the provider ignores them."""
    assert match == standardize("email", raw).match


def test_display_value_keeps_the_address_as_written_but_lower_case() -> None:
    """The display value is not rewritten by provider rules."""
    assert standardize("email", "J.O.H.N+tag@GoogleMail.com").value == "j.o.h.n+tag@googlemail.com"


def test_internationalized_domain_is_idna_encoded() -> None:
    """Unicode domains become their ASCII (punycode) form."""
    assert standardize("email", "x@München.de").value == "x@xn--mnchen-3ya.de"


@pytest.mark.parametrize(
    ("raw", "flag"),
    [
        ("admin@shop.com", "role_account"),
        ("no-reply@shop.com", "role_account"),
        ("a@yopmail.com", "disposable"),
        ("a@sub.mailinator.com", "disposable"),
        ("a@example.com", "placeholder"),
        ("a@b.invalid", "placeholder"),
        ("none@none.com", "placeholder"),
        ("plainaddress", "invalid"),
        ("a@b@c.com", "invalid"),
    ],
)
def test_quality_flags(raw: str, flag: str) -> None:
    """Role accounts, disposable domains, placeholders and bad syntax are flagged."""
    assert flag in standardize("email", raw).flags


def test_placeholders_have_no_match_form() -> None:
    """A placeholder address must not link records together."""
    assert standardize("email", "test@test.com").match is None


@settings(max_examples=300, deadline=None)
@given(raw=st.one_of(
    st.text(max_size=30),
    st.tuples(st.text(alphabet="aZ.+-_%ä1 ", max_size=12),
              st.sampled_from(["@gmail.com", "@Yahoo.com", "@outlook.com", "@acme.de",
                               "@müller.de", "@example.com", "@x.invalid", "@@a.com", "@a",
                               "@mailinator.com"])).map("".join),
))
def test_email_match_is_the_standardized_match(raw: str) -> None:
    """The dedupe fast path answers what the full standardizer's match form says."""
    assert email_match(raw) == standardize_email(raw).match


@pytest.mark.parametrize("raw", ["J.O.H.N+tag@googlemail.com", "info@acme.com",
                                 "test@example.com", "Zoë@müller.de", "a@@b.com",
                                 "<mailto:Ann@Example.ORG>", "n/a", ""])
def test_email_match_of_examples(raw: str) -> None:
    assert email_match(raw) == standardize_email(raw).match
