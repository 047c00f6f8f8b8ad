"""Per-locale pools of names, streets, places and phone prefixes, built once per run.

Faker costs 10-100 µs a call, far too slow per person for a million people; so each run asks a
seeded Faker for a few thousand values per locale once, gives them Zipf-like weights (common names
are common), and the generator samples from the pools with `random.Random`.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import random
from dataclasses import dataclass
from itertools import accumulate
from typing import Generic, TypeVar

from faker import Faker
from nicknames import NickNamer

from ucp.synth.locales import LOCALES, LocaleSpec
from ucp.synth.phones import PhonePrefix, build_prefixes

T = TypeVar("T")


def derive_seed(*parts: object) -> int:
    """A 64-bit seed from any parts, stable across processes and Python versions."""
    text = ":".join(str(p) for p in parts).encode()
    return int.from_bytes(hashlib.sha256(text).digest()[:8], "big")


@dataclass(frozen=True, slots=True)
class Weighted(Generic[T]):
    """Values with cumulative weights for O(log n) sampling."""

    values: tuple[T, ...]
    cum: tuple[float, ...]

    @classmethod
    def zipf(cls, values: list[T], exponent: float) -> Weighted[T]:
        weights = [1.0 / (rank + 1) ** exponent for rank in range(len(values))]
        return cls(tuple(values), tuple(accumulate(weights)))

    @classmethod
    def of(cls, pairs: list[tuple[T, float]]) -> Weighted[T]:
        return cls(tuple(v for v, _ in pairs), tuple(accumulate(w for _, w in pairs)))

    def pick(self, rng: random.Random) -> T:
        x = rng.random() * self.cum[-1]
        return self.values[min(bisect.bisect_right(self.cum, x), len(self.values) - 1)]


@dataclass(frozen=True, slots=True)
class Place:
    locality: str
    region: str | None
    postcodes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class LocalePool:
    spec: LocaleSpec
    given_male: Weighted[str]
    given_female: Weighted[str]
    family: Weighted[str]
    streets: tuple[str, ...]
    places: Weighted[Place]
    mobile: tuple[PhonePrefix, ...]
    landline: tuple[PhonePrefix, ...]
    domains: Weighted[str]


def _name_pool(raw: object, rng: random.Random, exponent: float) -> Weighted[str]:
    """Faker's weighted dicts keep their weights; plain lists get Zipf weights by list order,
    shuffled first when the list is alphabetical (so rank is not alphabetical)."""
    if isinstance(raw, dict):
        merged: dict[str, float] = {}
        for name, weight in raw.items():
            merged[name] = merged.get(name, 0.0) + float(weight)
        return Weighted.of(list(merged.items()))
    names = list(dict.fromkeys(str(n) for n in raw))  # type: ignore[attr-defined]
    if names == sorted(names):
        rng.shuffle(names)
    return Weighted.zipf(names, exponent)


def _postcode(spec: LocaleSpec, fake: Faker, rng: random.Random) -> str:
    if spec.country == "GB":
        return str(fake.postcode()).upper()
    if spec.country == "FR":
        dept = rng.choice([d for d in range(1, 96) if d != 20])
        return f"{dept:02d}{rng.randrange(1000):03d}"
    if spec.country == "DE":
        return f"{rng.randrange(1067, 99999):05d}"
    return f"{rng.randrange(1001, 99951):05d}"


@functools.lru_cache(maxsize=16)
def build_pool(locale: str, seed: int) -> LocalePool:
    """Pools for one locale; the same (locale, seed) always gives the same (immutable) pools,
    so they are cached per process."""
    spec = LOCALES[locale]
    fake = Faker(locale)
    fake.seed_instance(derive_seed(seed, "faker", locale))
    rng = random.Random(derive_seed(seed, "pools", locale))
    person = fake.provider("faker.providers.person")
    given_male = _name_pool(person.first_names_male, rng, 0.7)  # type: ignore[union-attr]
    given_female = _name_pool(person.first_names_female, rng, 0.7)  # type: ignore[union-attr]
    family = _name_pool(person.last_names, rng, 0.6)  # type: ignore[union-attr]
    raw_streets = (str(fake.street_name()) for _ in range(2000))
    if spec.country == "GB":  # Faker's en_GB suffixes are lower case ("Smith road")
        raw_streets = (s[: s.rfind(" ") + 1] + s[s.rfind(" ") + 1 :].title() for s in raw_streets)
    streets = tuple(dict.fromkeys(raw_streets))
    localities = list(dict.fromkeys(str(fake.city()) for _ in range(900)))
    places: list[Place] = []
    for rank, locality in enumerate(localities):
        n_codes = max(1, 12 // (rank + 1) + rng.randrange(2))
        region = str(fake.state_abbr()) if spec.country == "US" else None  # type: ignore[attr-defined]
        codes = tuple(dict.fromkeys(_postcode(spec, fake, rng) for _ in range(n_codes)))
        places.append(Place(locality, region, codes))
    mobile = build_prefixes(spec, spec.mobile, True, rng)
    landline = build_prefixes(spec, spec.landline, False, rng)
    return LocalePool(
        spec=spec,
        given_male=given_male,
        given_female=given_female,
        family=family,
        streets=streets,
        places=Weighted.zipf(places, 0.9),
        mobile=mobile,
        landline=landline,
        domains=Weighted.of(list(spec.email_domains)),
    )


def build_nicknames(pools: dict[str, LocalePool]) -> dict[str, tuple[str, ...]]:
    """Given name -> its nicknames and diminutives (title case, sorted for determinism)."""
    namer = NickNamer()
    table: dict[str, tuple[str, ...]] = {}
    for locale in sorted(pools):
        pool = pools[locale]
        for name in (*pool.given_male.values, *pool.given_female.values):
            if name in table:
                continue
            nicks = sorted(
                n.title() for n in namer.nicknames_of(name) if len(n) > 1 and n != name.lower()
            )
            if nicks:
                table[name] = tuple(nicks)
    return table
