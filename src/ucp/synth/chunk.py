"""The state of one chunk of people being turned into source rows: randomness, ids and buffers.

Chunk `i` is a pure function of (seed, i, rates, locales): its own `random.Random(seed, i)`, and
ids that embed the chunk number so they never collide with another chunk's.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from ucp.synth.catalog import Product
from ucp.synth.corrupt import Corruptor
from ucp.synth.people import HISTORY_START, REFERENCE_DATE, Person
from ucp.synth.pools import LocalePool, Weighted
from ucp.synth.rates import Rates

_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_ID_STRIDE = 10_000_000  # ids per chunk and kind


def base62(n: int, width: int) -> str:
    out = []
    while n:
        n, r = divmod(n, 62)
        out.append(_B62[r])
    return "".join(reversed(out)).rjust(width, "0")


@dataclass(frozen=True, slots=True)
class World:
    """Everything built once per run and shared by every chunk."""

    seed: int
    rates: Rates
    pools: dict[str, LocalePool]
    locales: Weighted[str]
    nicknames: dict[str, tuple[str, ...]]
    catalog: Weighted[Product]


@dataclass(slots=True)
class Chunk:
    """Rows of one chunk, per output file, plus the truth for each key."""

    index: int
    world: World
    rng: random.Random
    corrupt: Corruptor
    csv_rows: dict[str, list[list[str]]] = field(default_factory=dict)
    json_rows: dict[str, list[dict[str, object]]] = field(default_factory=dict)
    truth: list[tuple[str, str, str]] = field(default_factory=list)
    counters: dict[str, int] = field(default_factory=dict)

    def next_id(self, kind: str) -> int:
        """A number unique across the whole run for this kind of id."""
        n = self.counters.get(kind, 0)
        self.counters[kind] = n + 1
        return self.index * _ID_STRIDE + n

    def uuid(self) -> str:
        h = f"{self.rng.getrandbits(128):032x}"
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) % 4]}{h[17:20]}-{h[20:]}"

    def add_csv(self, source: str, row: list[str], key: str, person: Person) -> None:
        self.csv_rows.setdefault(source, []).append(row)
        self.truth.append((source, key, person.person_id))

    def add_json(self, source: str, row: dict[str, object], key: str, person: Person) -> None:
        self.json_rows.setdefault(source, []).append(row)
        self.truth.append((source, key, person.person_id))

    def moment(self, start: datetime | date | None = None, end: datetime | None = None) -> datetime:
        """A random second between `start` (default: history start) and `end` (reference)."""
        lo = _as_dt(start or HISTORY_START)
        hi = end or _as_dt(REFERENCE_DATE)
        span = int((hi - lo).total_seconds())
        if span <= 0:
            return lo
        return lo + timedelta(seconds=self.rng.randrange(span))

    def maybe(self, value: str) -> str:
        """The value, or empty when the field is missing from this record."""
        return "" if self.corrupt.missing() else value


def _as_dt(value: datetime | date) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime(value.year, value.month, value.day)


# date spellings, one per source convention -------------------------------------------------
def iso_z(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{(t.second * 37) % 1000:03d}Z"


def salesforce(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.000+0000")


_OFFSETS = {"US": "-05:00", "GB": "+00:00", "DE": "+01:00", "FR": "+01:00"}


def iso_offset(t: datetime, country: str) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S") + _OFFSETS.get(country, "+00:00")


def mdy(d: date) -> str:
    return f"{d.month:02d}/{d.day:02d}/{d.year:04d}"


def dmy_slash(t: datetime, seconds: bool = True) -> str:
    return t.strftime("%d/%m/%Y %H:%M:%S" if seconds else "%d/%m/%Y %H:%M")


def dmy_dot(t: datetime) -> str:
    return t.strftime("%d.%m.%Y %H:%M:%S")
