"""Properties of every standardizer: never raises, and the matching form is idempotent."""

from __future__ import annotations

import datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ucp.domain.standardize import KINDS, Context, standardize
from ucp.domain.standardize.address import standardize_address, street_parts

TODAY = datetime.date(2025, 6, 1)
COUNTRIES = st.sampled_from([None, "US", "GB", "DE", "FR", "CA", "AU", "XX"])
ORDERS = st.sampled_from(["DMY", "MDY", "YMD"])
contexts = st.builds(Context, country=COUNTRIES, date_order=ORDERS, today=st.just(TODAY))

#: text shaped like the values the standardizers see, plus arbitrary unicode noise
_pieces = st.sampled_from(
    [
        "Bob",
        "O'Brien",
        "Müller",
        "van der",
        "Straße",
        "St.",
        "rue",
        "de la",
        "Flat",
        "Apt",
        "#",
        "@",
        "gmail.com",
        "+44",
        "0044",
        "(0)",
        "-",
        "/",
        ".",
        ",",
        " ",
        "  ",
        "12",
        "1985",
        "03",
        "07",
        "2021-03-07T10:15:00Z",
        "SW1A 1AA",
        "10115",
        "Mr",
        "Ltd",
        "n/a",
        "x",
        "ext",
        "März",
        "\u2019",
        "\u00a0",
        "\t",
        "\n",
        "ß",
        "Ø",
        "ﬁ",
        "\u0301",
        "𝔘",
        "0",
        "9" * 20,
    ]
)
raw_text = st.one_of(
    st.text(max_size=40),
    st.lists(_pieces, max_size=8).map("".join),
    st.lists(st.one_of(_pieces, st.text(max_size=3)), max_size=8).map(" ".join),
)
raw_any = st.one_of(raw_text, st.none(), st.integers(), st.floats(allow_nan=True))


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(kind=st.sampled_from(KINDS), raw=raw_any, ctx=contexts)
def test_no_standardizer_raises_or_falls_back_to_the_safety_net(
    kind: str, raw: object, ctx: Context
) -> None:
    """Any input gives a result with flags; none reaches the catch-all ('error' flag)."""
    result = standardize(kind, raw, ctx)
    assert "error" not in result.flags
    assert result.flags == tuple(sorted(set(result.flags)))
    assert result.match is None or result.value is not None


# Realistic values for the idempotency property: what matters is re-standardizing output.
_given = st.sampled_from(["Bob", "ROBERT", "mary-kate", "Jürgen", "hélène", "Ørjan", "Sean"])
_family = st.sampled_from(
    [
        "O'Brien",
        "MCDONALD",
        "van der Berg",
        "Müller-Lüdenscheidt",
        "de la Cruz",
        "d'Artagnan",
        "Smith",
        "STRAUß",
        "Lefèvre",
    ]
)
_full = st.one_of(
    st.tuples(_given, _family).map(" ".join),
    st.tuples(_family, _given).map(", ".join),
    st.tuples(st.sampled_from(["Dr.", "Mr", "Mme"]), _given, _family).map(" ".join),
)
_emails = st.tuples(
    st.sampled_from(["John.Smith", "j.smith+news", "mary-ebay", "info", "Zoë", "a_b"]),
    st.sampled_from(
        [
            "gmail.com",
            "GoogleMail.com",
            "yahoo.com",
            "outlook.com",
            "acme.de",
            "müller.de",
            "mailinator.com",
            "example.com",
        ]
    ),
).map("@".join)
_phones = st.sampled_from(
    [
        "020 7946 0958",
        "+44 20 7946 0958",
        "0044-20-79460958",
        "(201) 555-0123 ext 7",
        "030 1234567",
        "+49 171 1234567",
        "06 12 34 56 78",
        "0033 1 23 45 67 89",
        "12345",
    ]
)
_streets = st.sampled_from(
    [
        "Main St",
        "Downing Street",
        "Hauptstraße",
        "rue de la Paix",
        "Berliner Str.",
        "avenue des Champs-Élysées",
        "SUNSET BLVD",
    ]
)
_addresses = st.one_of(
    st.tuples(st.integers(1, 999).map(str), _streets).map(" ".join),
    st.tuples(_streets, st.integers(1, 99).map(str)).map(" ".join),
    st.tuples(
        st.integers(1, 99).map(str),
        _streets,
        st.sampled_from(
            [
                ", London SW1A 2AA",
                ", 10115 Berlin",
                ", 75002 Paris, France",
                ", Springfield, IL 62704",
                " Apt 4",
                ", Flat 2",
                "",
            ]
        ),
    ).map(lambda t: f"{t[0]} {t[1]}{t[2]}"),
)
_dates = st.dates(datetime.date(1900, 1, 2), datetime.date(2025, 5, 1)).flatmap(
    lambda d: st.sampled_from(
        [
            d.isoformat(),
            d.strftime("%d/%m/%Y"),
            d.strftime("%m/%d/%y"),
            d.strftime("%d.%m.%Y"),
            d.strftime("%d %B %Y"),
            d.strftime("%B %d, %Y"),
            d.strftime("%Y%m%d"),
        ]
    )
)
_values = {
    "name": _full,
    "given_name": _given,
    "family_name": _family,
    "email": _emails,
    "phone": _phones,
    "address": _addresses,
    "date": _dates,
    "timestamp": _dates,
    "postcode": st.sampled_from(["sw1a1aa", "10115", "62704-1234", "k1a 0b1", "2000", "1067"]),
    "country": st.sampled_from(["UK", "England", "Deutschland", "usa", "France", "GBR"]),
    "gender": st.sampled_from(["m", "Female", "weiblich", "Mme", "divers"]),
    "text": st.sampled_from([" New  York ", "München", "Saint-Étienne"]),
}


def test_every_kind_has_a_realistic_strategy() -> None:
    """The idempotency property below exercises every kind."""
    assert set(_values) == set(KINDS)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(data=st.data(), kind=st.sampled_from(KINDS), ctx=contexts)
def test_match_is_idempotent(data: st.DataObject, kind: str, ctx: Context) -> None:
    """Standardizing the display value or the match value again gives the same match."""
    first = standardize(kind, data.draw(_values[kind]), ctx)
    if first.match is None:
        return
    assert standardize(kind, first.match, ctx).match == first.match
    assert standardize(kind, first.value, ctx).match == first.match


@settings(max_examples=300, deadline=None)
@given(raw=st.one_of(_addresses, st.text(max_size=40)), ctx=contexts)
def test_street_parts_are_the_standardized_address_parts(raw: str, ctx: Context) -> None:
    """The dedupe fast path gives the street and house number the whole result holds."""
    parts = standardize_address(raw, ctx.country).parts
    assert street_parts(raw, ctx.country) == (parts.get("street", ""),
                                              parts.get("house_number", ""))
