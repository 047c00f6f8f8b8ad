"""The true population: locale formats, households, twins, movers, marriages, common names."""

from __future__ import annotations

import re
from collections import Counter, defaultdict

import phonenumbers
import pytest

from ucp.synth.locales import LOCALES, POSTCODE_PATTERNS
from ucp.synth.phones import international, national

MOBILE = {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}
FIXED = {phonenumbers.PhoneNumberType.FIXED_LINE,
         phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}


@pytest.fixture(scope="module")
def people(dataset):
    return dataset.people()


def test_every_locale_is_present(people) -> None:
    counts = Counter(p.locale for p in people.values())
    assert set(counts) == set(LOCALES)
    assert min(counts.values()) > 100


def test_clean_phones_are_valid_for_the_locale_in_every_spelling(people) -> None:
    for p in people.values():
        region = LOCALES[p.locale].country
        for phone, kinds in ((p.mobile, MOBILE), (p.landline, FIXED)):
            if phone is None:
                continue
            number = phonenumbers.parse(national(phone), region)
            assert phonenumbers.is_valid_number_for_region(number, region), phone
            assert phonenumbers.number_type(number) in kinds
            spellings = [(national(phone, v), region) for v in range(4)]
            spellings += [(international(phone, v, "00"), "DE") for v in range(4)]
            spellings += [(international(phone, v, "011"), "US") for v in range(4)]
            for text, parse_region in spellings:
                parsed = phonenumbers.parse(text, parse_region)
                e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
                assert e164 == phone.e164, text


def test_clean_postcodes_match_the_locale_pattern(people) -> None:
    for p in people.values():
        for _, address in p.addresses:
            assert re.match(POSTCODE_PATTERNS[address.country], address.postcode), address


def test_clean_emails_are_plausible(people) -> None:
    for p in people.values():
        assert 1 <= len(p.emails) <= 2
        for email in p.emails:
            assert re.fullmatch(r"[a-z0-9._+]+@[a-z0-9.-]+\.[a-z]+", email), email


def test_households_share_an_address_and_landline(people) -> None:
    households = defaultdict(list)
    for p in people.values():
        households[p.household_id].append(p)
    multi = [h for h in households.values() if len(h) > 1]
    assert len(multi) > 100
    for members in multi:
        assert len({m.addresses[-1][1] for m in members}) == 1
        assert len({m.landline for m in members}) == 1
    shared = [p for p in people.values() if "shared_email" in p.tags]
    assert shared and all(len(p.emails) == 2 for p in shared)


def test_twins_share_surname_birth_date_and_address(people) -> None:
    twins = [p for p in people.values() if p.twin_of]
    assert twins
    for p in twins:
        other = people[p.twin_of]
        assert (p.family_name, p.birth_date) == (other.family_name, other.birth_date)
        assert p.addresses[-1][1] == other.addresses[-1][1]
        assert p.given_name != other.given_name


def test_movers_marriages_and_common_names_exist(people, dataset) -> None:
    n = len(people)
    movers = [p for p in people.values() if "mover" in p.tags]
    assert abs(len(movers) / n - dataset.rates.mover) < 0.03
    assert all(len(p.addresses) == 2 and p.addresses[0][1] != p.addresses[1][1] for p in movers)
    married = [p for p in people.values() if "married" in p.tags]
    assert married
    for p in married:
        assert p.marriage_date is not None
        assert p.family_name_on(p.marriage_date) == p.family_name
        assert p.birth_family_name != p.family_name
    names = Counter((p.given_name, p.family_name) for p in people.values())
    assert names.most_common(1)[0][1] >= 5
