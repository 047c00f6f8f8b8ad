"""The true population: households of people with names, contacts and an address history.

People come in households (sharing an address and a landline, sometimes an email); some are
twins, some carry very common names, some moved house or changed surname on marriage. These are
the clean, true values; sources see them through `corrupt`.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta

from ucp.synth.phones import Phone, new_phone
from ucp.synth.pools import LocalePool, Weighted
from ucp.synth.rates import Rates

#: every date and time is relative to this day, never to the clock
REFERENCE_DATE = date(2026, 6, 30)
HISTORY_START = date(2016, 1, 1)
HISTORY_DAYS = (REFERENCE_DATE - HISTORY_START).days

_HOUSEHOLD_SIZES = Weighted.of([(1, 0.45), (2, 0.35), (3, 0.12), (4, 0.08)])
_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "Ae", "Ö": "Oe",
                       "Ü": "Ue"})


def ascii_fold(text: str, german: bool = True) -> str:
    """Müller -> Mueller (German convention) or Muller; accents dropped."""
    if german:
        text = text.translate(_FOLD)
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@dataclass(frozen=True, slots=True)
class Address:
    house_number: str
    street: str
    unit: str | None  # the unit number only; the word ("Apt", "Flat") is a source's spelling
    locality: str
    region: str | None
    postcode: str
    country: str


@dataclass(slots=True)
class Person:
    """One real person: the truth every source record of them derives from."""

    person_id: str
    locale: str
    household_id: str
    gender: str  # "F" or "M"
    given_name: str
    middle_name: str | None
    family_name: str
    birth_date: date
    emails: list[str]
    mobile: Phone
    landline: Phone | None
    #: (from date, address), oldest first; the last one is current
    addresses: list[tuple[date, Address]]
    birth_family_name: str | None = None  # surname before marriage
    marriage_date: date | None = None
    twin_of: str | None = None
    tags: list[str] = field(default_factory=list)

    def family_name_on(self, day: date) -> str:
        if self.birth_family_name and self.marriage_date and day < self.marriage_date:
            return self.birth_family_name
        return self.family_name

    def address_on(self, day: date) -> Address:
        current = self.addresses[0][1]
        for since, address in self.addresses:
            if since <= day:
                current = address
        return current


def random_day(rng: random.Random, start: date = HISTORY_START, end: date = REFERENCE_DATE) -> date:
    span = max(1, (end - start).days)
    return start + timedelta(days=rng.randrange(span))


def _address(pool: LocalePool, rng: random.Random) -> Address:
    place = pool.places.pick(rng)
    small = rng.random() < 0.75 or pool.spec.country in ("DE", "FR")
    house = str(rng.randrange(1, 120) if small else rng.randrange(120, 9000))
    unit = None
    if pool.spec.country != "DE" and rng.random() < 0.2:
        unit = str(rng.randrange(1, 40))
    elif pool.spec.country == "DE" and rng.random() < 0.05:
        house += rng.choice("abc")
    return Address(
        house_number=house,
        street=pool.streets[rng.randrange(len(pool.streets))],
        unit=unit,
        locality=place.locality,
        region=place.region,
        postcode=place.postcodes[rng.randrange(len(place.postcodes))],
        country=pool.spec.country,
    )


def _local_part(given: str, family: str, birth: date, rng: random.Random) -> str:
    g = ascii_fold(given).lower().replace(" ", "").replace("-", "").replace("'", "")
    f = ascii_fold(family).lower().replace(" ", "").replace("-", "").replace("'", "")
    n = rng.randrange(1, 10_000)
    patterns = (
        f"{g}.{f}", f"{g}{f}", f"{g}_{f}", f"{g[0]}{f}",
        f"{g}.{f}{n % 100}", f"{g}{f}{birth.year % 100:02d}", f"{g[0]}.{f}{n % 1000}",
        f"{f}.{g}", f"{g}{n}", f"{f}{g[0]}{n % 100}", f"{g}.{f}{birth.year}",
        f"{g}{f[0]}{n}",
    )
    weights = (6, 3, 1, 3, 6, 5, 4, 2, 3, 3, 3, 3)
    return rng.choices(patterns, weights)[0]


def new_email(pool: LocalePool, given: str, family: str, birth: date, rng: random.Random) -> str:
    return f"{_local_part(given, family, birth, rng)}@{pool.domains.pick(rng)}"


def _given(pool: LocalePool, gender: str, rng: random.Random, avoid: str = "") -> str:
    names = pool.given_female if gender == "F" else pool.given_male
    for _ in range(8):
        name = names.pick(rng)
        if name != avoid:
            return name
    return names.values[-1] if names.values[-1] != avoid else names.values[-2]


def _most_common(names: Weighted[str]) -> str:
    weights = [c - (names.cum[i - 1] if i else 0.0) for i, c in enumerate(names.cum)]
    return names.values[weights.index(max(weights))]


def _birth_date(rng: random.Random, min_age: int, max_age: int) -> date:
    age_days = rng.randrange(min_age * 365 + 1, max_age * 365)
    return REFERENCE_DATE - timedelta(days=age_days)


def make_household(
    pool: LocalePool, rates: Rates, rng: random.Random, household_id: str, first_index: int,
    max_size: int,
) -> list[Person]:
    """One household of 1-4 people sharing an address (and a landline if there is one)."""
    size = min(max_size, _HOUSEHOLD_SIZES.pick(rng))
    common = rng.random() < rates.common_name
    family = pool.family.values[0] if common else pool.family.pick(rng)
    address = _address(pool, rng)
    landline = None
    if rng.random() < rates.landline:
        landline = new_phone(pool.spec, pool.landline, rng, mobile=False)
    twins = size >= 2 and rng.random() < rates.twins
    people: list[Person] = []
    for k in range(size):
        index = first_index + k
        gender = "F" if rng.random() < 0.51 else "M"
        if twins and k == size - 1:
            sibling = people[-1]
            gender = sibling.gender if rng.random() < 0.5 else ("F" if gender == "M" else "M")
            given = _given(pool, gender, rng, avoid=sibling.given_name)
            birth, surname = sibling.birth_date, sibling.family_name
        else:
            if common and k == 0:
                given = _most_common(pool.given_female if gender == "F" else pool.given_male)
            else:
                given = _given(pool, gender, rng)
            if k == 0:
                birth, surname = _birth_date(rng, 18, 85), family
            elif k == 1:
                birth = _birth_date(rng, 18, 80)
                surname = family if rng.random() < 0.7 else pool.family.pick(rng)
            else:
                birth, surname = _birth_date(rng, 18, 30), family
        middle = None
        if rng.random() < pool.spec.middle_name_rate:
            middle = _given(pool, gender, rng, avoid=given)
        person = Person(
            person_id=f"P{index:08d}", locale=pool.spec.locale, household_id=household_id,
            gender=gender, given_name=given, middle_name=middle, family_name=surname,
            birth_date=birth, emails=[], mobile=new_phone(pool.spec, pool.mobile, rng),
            landline=landline, addresses=[(HISTORY_START, address)],
        )
        if twins and k == size - 1:
            person.twin_of = people[-1].person_id
            people[-1].twin_of = person.person_id
            person.tags.append("twin")
            people[-1].tags.append("twin")
        if common and k == 0:
            person.tags.append("common_name")
        if rng.random() < rates.marriage and birth.year < REFERENCE_DATE.year - 22:
            person.birth_family_name = pool.family.pick(rng)
            if person.birth_family_name != surname:
                person.marriage_date = random_day(rng, date(2017, 1, 1))
                person.tags.append("married")
            else:
                person.birth_family_name = None
        if rng.random() < rates.mover:
            moved = random_day(rng, date(2018, 1, 1))
            person.addresses = [(HISTORY_START, _address(pool, rng)), (moved, address)]
            person.tags.append("mover")
        email_name = person.birth_family_name or surname
        person.emails.append(new_email(pool, given, email_name, birth, rng))
        if rng.random() < rates.second_email:
            second = new_email(pool, given, surname, birth, rng)
            if second != person.emails[0]:
                person.emails.append(second)
        people.append(person)
    if size >= 2 and rng.random() < rates.household_shared_email:
        shared = f"{ascii_fold(family).lower().replace(' ', '')}family{rng.randrange(100)}"
        shared += f"@{pool.domains.pick(rng)}"
        for person in people[:2]:
            person.emails = [person.emails[0], shared]
            person.tags.append("shared_email")
    return people
