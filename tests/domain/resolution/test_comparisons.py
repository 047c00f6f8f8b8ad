"""Each comparison puts small, hand-made pairs on the level it should."""

from __future__ import annotations

import numpy as np
import pytest

from ucp.domain.model import ResolvableRecord
from ucp.domain.resolution.comparisons import build_comparison
from ucp.domain.resolution.settings import ComparisonSpec, ResolutionSettings
from ucp.domain.resolution.table import RecordTable

from .people import person

SPECS = {c.name: c for c in ResolutionSettings(exact_columns=("ssn",)).all_comparisons()}


def level(name: str, a: ResolvableRecord, b: ResolvableRecord) -> str:
    comparison = build_comparison(SPECS[name])
    table = RecordTable.from_records([a, b])
    code = int(comparison.compute(table, np.array([0]), np.array([1]))[0])
    return "null" if code == 0 else comparison.levels[code - 1]


@pytest.mark.parametrize(("a", "b", "expected"), [
    ("Robert", "robert", "exact"),
    ("Bob", "Robert", "nickname"),
    ("Jonathon", "Jonathan", "jaro_winkler_0.92"),
    ("Stephen", "Steven", "phonetic"),
    ("J", "John", "initial"),
    ("Mary", "Zoe", "else"),
    ("", "Mary", "null"),
])
def test_given_name_levels(a: str, b: str, expected: str) -> None:
    assert level("given_name", person("1", given_name=a, family_name="Smith"),
                 person("2", given_name=b, family_name="Smith")) == expected


def test_swapped_names_count_once_in_the_given_name_comparison() -> None:
    a = person("1", given_name="Isla", family_name="Hall")
    b = person("2", given_name="Hall", family_name="Isla")
    assert (level("given_name", a, b), level("family_name", a, b)) == ("swapped", "null")


@pytest.mark.parametrize(("a", "b", "expected"), [
    ("Smith", "SMITH", "exact"),
    ("Smith", "Smithe", "jaro_winkler_0.92"),
    ("Knight", "Nite", "phonetic"),
    ("Smith", "Jones", "else"),
])
def test_family_name_levels(a: str, b: str, expected: str) -> None:
    assert level("family_name", person("1", given_name="Ann", family_name=a),
                 person("2", given_name="Ann", family_name=b)) == expected


@pytest.mark.parametrize(("a", "b", "expected"), [
    ("1980-03-07", "07/03/1980", "exact"),
    ("1980-03-07", "1980-03-08", "one_digit_or_day_month_swap"),
    ("1980-03-07", "1980-07-03", "one_digit_or_day_month_swap"),
    ("1980-03-07", "1980-11-30", "same_year"),
    ("1980-12-07", "1981-03-30", "within_1_year"),
    ("1980-03-07", "1983-01-01", "within_n_years"),
    ("1980-03-07", "1950-01-01", "else"),
])
def test_birth_date_levels(a: str, b: str, expected: str) -> None:
    assert level("birth_date", person("1", birth_date=a), person("2", birth_date=b)) == expected


@pytest.mark.parametrize(("a", "b", "expected"), [
    ("ann.lee@gmail.com", "annlee@gmail.com", "exact"),
    ("ann.lee@home.org", "ann.lee@work.org", "same_local_part"),
    ("ann.lee@work.org", "ann.le@work.org", "jaro_winkler_0.88"),
    ("ann.lee81@work.org", "ann.le81@work.org", "jaro_winkler_0.88"),
    # namesakes: similar addresses, other digits (two mailboxes, not a typo)
    ("michaelsmith85@work.org", "michaelsmith53@work.org", "else"),
    ("michael.smith@work.org", "michael.smith1@work.org", "else"),
    ("ann.lee@work.org", "zed@other.net", "else"),
])
def test_email_levels(a: str, b: str, expected: str) -> None:
    assert level("email", person("1", email=a), person("2", email=b)) == expected


@pytest.mark.parametrize(("a", "b", "expected"), [
    ("020 7946 0958", "+44 20 7946 0958", "exact"),
    ("020 7946 0958", "+1 212 555 0147", "else"),
    ("020 7946 0958", "020 7946 0959", "one_digit"),
    ("020 7946 0958", "+1 212 946 0958", "same_last_7_digits"),
])
def test_phone_levels(a: str, b: str, expected: str) -> None:
    assert level("phone", person("1", phone=a), person("2", phone=b)) == expected


@pytest.mark.parametrize(("a", "b", "expected"), [
    ({"house_number": "10", "street": "Downing Street"},
     {"house_number": "10", "street": "downing st"}, "exact"),
    ({"house_number": "10", "street": "Downing Street"},
     {"house_number": "10", "street": "Downnig Street"}, "number_and_street"),
    ({"house_number": "10", "street": "Downing Street"},
     {"house_number": "12", "street": "Downing Street"}, "tokens_0.70"),
    ({"house_number": "10", "street": "Downing Street", "postcode": "SW1A 2AA"},
     {"house_number": "10", "street": "Whitehall", "postcode": "sw1a2aa"},
     "number_and_postcode"),
    ({"house_number": "10", "street": "Downing Street", "postcode": "SW1A 2AA"},
     {"house_number": "10", "street": "Whitehall", "postcode": "N1 9GU"}, "else"),
    ({"house_number": "10", "street": "Downing Street"},
     {"house_number": "3", "street": "Baker Road"}, "else"),
])
def test_address_levels(a: dict[str, str], b: dict[str, str], expected: str) -> None:
    assert level("address", person("1", **a), person("2", **b)) == expected


def test_postcode_locality_gender_and_exact_column_levels() -> None:
    assert level("postcode", person("1", postcode="SW1A 2AA"),
                 person("2", postcode="sw1a2aa")) == "exact"
    assert level("postcode", person("1", postcode="SW1A 2AA"),
                 person("2", postcode="SW1A 2AB")) == "near"
    assert level("locality", person("1", locality="London"),
                 person("2", locality="Londn")) == "jaro_winkler_0.92"
    assert level("gender", person("1", gender="F"), person("2", gender="female")) == "exact"
    a, b = person("1"), person("2")
    a = type(a)(a.key, (), {"ssn": {"match": "1234567"}})
    b = type(b)(b.key, (), {"ssn": {"match": "1234568"}})
    assert level("ssn", a, b) == "one_typo"


def test_an_unknown_comparison_kind_is_refused_with_the_known_kinds() -> None:
    with pytest.raises(ValueError, match="kinds are"):
        build_comparison(ComparisonSpec("x", "nope", "given"))
