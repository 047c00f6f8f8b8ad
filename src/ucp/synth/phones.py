"""Phone numbers: valid prefixes per country (checked once with phonenumbers) and their spellings.

A number is kept as `(country, area, subscriber)`; the national significant number is
`area + subscriber`. Formatting is done by hand (phonenumbers is too slow per record) and the
tests check that phonenumbers parses every spelling back to the same number.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import phonenumbers

from ucp.synth.locales import LocaleSpec, PhonePlan


@dataclass(frozen=True, slots=True)
class Phone:
    country: str
    calling_code: str
    area: str
    subscriber: str

    @property
    def nsn(self) -> str:
        """National significant number (no trunk prefix, no country code)."""
        return self.area + self.subscriber

    @property
    def e164(self) -> str:
        return f"+{self.calling_code}{self.nsn}"


@dataclass(frozen=True, slots=True)
class PhonePrefix:
    area: str
    lead: str  # first digits of the subscriber number
    length: int  # subscriber length


def _valid(
    spec: LocaleSpec, area: str, sub: str, mobile: bool
) -> bool:
    try:
        number = phonenumbers.parse(f"+{spec.calling_code}{area}{sub}")
    except phonenumbers.NumberParseException:
        return False
    # +44 7937… is valid but Jersey's: the number must belong to the locale's own region
    if not phonenumbers.is_valid_number_for_region(number, spec.country):
        return False
    kind = phonenumbers.number_type(number)
    types = phonenumbers.PhoneNumberType
    want = types.MOBILE if mobile else types.FIXED_LINE
    return kind in (want, types.FIXED_LINE_OR_MOBILE)


def build_prefixes(
    spec: LocaleSpec, plan: PhonePlan, mobile: bool, rng: random.Random, count: int = 250
) -> tuple[PhonePrefix, ...]:
    """Sample `count` candidate prefixes (area code + first subscriber digit) and keep those
    whose random completions validate. One digit of lead leaves ~10^6 numbers per prefix, so
    two people rarely share a number even among millions."""
    kept: dict[PhonePrefix, None] = {}
    for _ in range(count):
        area = rng.choice(plan.areas)
        lead = rng.choice(plan.lead_digits)
        for length in plan.subscriber_lengths:
            probes = [
                lead + "".join(str(rng.randrange(10)) for _ in range(length - len(lead)))
                for _ in range(6)
            ]
            if all(_valid(spec, area, p, mobile) for p in probes):
                kept[PhonePrefix(area, lead, length)] = None
                break
    if not kept:
        raise RuntimeError(f"no valid phone prefix for {spec.locale}")  # pragma: no cover
    return tuple(kept)


def new_phone(
    spec: LocaleSpec, prefixes: tuple[PhonePrefix, ...], rng: random.Random, mobile: bool = True
) -> Phone:
    """A random number under one of the prefixes (checked one by one where the plan asks)."""
    plan = spec.mobile if mobile else spec.landline
    for _ in range(50):
        p = prefixes[rng.randrange(len(prefixes))]
        rest = p.length - len(p.lead)
        sub = p.lead + str(rng.randrange(10**rest)).zfill(rest)
        if not plan.check_each or _valid(spec, p.area, sub, mobile):
            break
    return Phone(spec.country, spec.calling_code, p.area, sub)


def _groups(digits: str, sizes: tuple[int, ...]) -> list[str]:
    out: list[str] = []
    i = 0
    for s in sizes:
        if i >= len(digits):
            break
        out.append(digits[i : i + s])
        i += s
    if i < len(digits):
        out[-1] += digits[i:]
    return out


def national(phone: Phone, variant: int = 0) -> str:
    """The number as a person from its own country writes it (variant picks a house style)."""
    a, s = phone.area, phone.subscriber
    if phone.country == "US":
        return (f"({a}) {s[:3]}-{s[3:]}", f"{a}-{s[:3]}-{s[3:]}", f"{a}.{s[:3]}.{s[3:]}",
                f"{a}{s}")[variant % 4]
    if phone.country == "FR":
        nsn = phone.nsn
        pairs = [nsn[1 + i : 3 + i] for i in range(0, 8, 2)]
        head = f"0{nsn[0]}"
        return (f"{head} " + " ".join(pairs), f"{head}." + ".".join(pairs), "0" + nsn,
                f"{head}-" + "-".join(pairs))[variant % 4]
    if phone.country == "GB":
        if a.startswith("7"):
            base = (f"0{a}{s[:1]} {s[1:]}", f"0{a}{s[:1]}{s[1:]}", f"0{a}{s[:1]}-{s[1:]}")
        elif len(a) == 2:
            base = (f"0{a} {s[:4]} {s[4:]}", f"0{a}{s}", f"(0{a}) {s[:4]} {s[4:]}")
        else:
            base = (f"0{a} {s[:3]} {s[3:]}", f"0{a}{s}", f"(0{a}) {s[:3]} {s[3:]}")
        return base[variant % 3]
    # DE
    return (f"0{a} {s}", f"0{a}/{s}", f"0{a}-{s}", f"(0{a}) {s}")[variant % 4]


def international(phone: Phone, variant: int = 0, idd: str = "00") -> str:
    """The number with its country code: E.164, spaced, or dialled from abroad with `idd`
    (the international prefix of the country the number is written in: 00, or 011 in the US)."""
    a, s, cc = phone.area, phone.subscriber, phone.calling_code
    if phone.country == "US":
        grouped = f"{a}-{s[:3]}-{s[3:]}"
    elif phone.country == "FR":
        nsn = phone.nsn
        grouped = nsn[0] + " " + " ".join(_groups(nsn[1:], (2, 2, 2, 2)))
    elif phone.country == "GB":
        grouped = national(phone, 0)[1:]
    else:
        grouped = f"{a} {s}"
    spellings = (phone.e164, f"+{cc} {grouped}", f"{idd} {cc} {grouped}", f"+{cc} ({a}) {s}")
    return spellings[variant % 4]


def with_extension(text: str, ext: int, variant: int = 0) -> str:
    return text + (f" ext. {ext}", f" x{ext}", f";ext={ext}")[variant % 3]
