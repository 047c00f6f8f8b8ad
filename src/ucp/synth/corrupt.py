"""How sources err: typos, nicknames, initials, swaps, gaps, spelling variants and junk values.

A `Corruptor` applies each kind at its rate from `Rates` and tallies every opportunity and every
application, so tests (and `docs/data.md`) can check the realised rates.
"""

from __future__ import annotations

import random
from datetime import date

from ucp.synth.locales import LocaleSpec
from ucp.synth.people import Address, ascii_fold
from ucp.synth.phones import Phone, international, national, with_extension
from ucp.synth.rates import Rates

_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_NEIGHBOURS: dict[str, str] = {}
for _r, _row in enumerate(_ROWS):
    for _c, _ch in enumerate(_row):
        near = [_row[j] for j in (_c - 1, _c + 1) if 0 <= j < len(_row)]
        for _other in (_r - 1, _r + 1):
            if 0 <= _other < len(_ROWS):
                near += [_ROWS[_other][j] for j in (_c - 1, _c) if 0 <= j < len(_ROWS[_other])]
        _NEIGHBOURS[_ch] = "".join(near)

TYPO_KINDS = ("adjacent_key", "transposition", "deletion", "doubled_letter")

JUNK_EMAILS = ("test@test.com", "noemail@example.com", "none@none.com", "n/a")
JUNK_PHONES = ("000-000-0000", "0000000000", "1234567890", "999-999-9999", "N/A")
JUNK_NAMES = ("N/A", "Test", "XXX", "Unknown")
JUNK_DATE = date(1900, 1, 1)


def typo(text: str, rng: random.Random) -> tuple[str, str]:
    """One keyboard slip; returns (new text, kind). Texts shorter than 3 are left alone."""
    if len(text) < 3:
        return text, "none"
    kind = TYPO_KINDS[rng.randrange(4)]
    i = rng.randrange(1, len(text) - 1)
    ch = text[i]
    if kind == "adjacent_key" and ch.lower() in _NEIGHBOURS:
        sub = rng.choice(_NEIGHBOURS[ch.lower()])
        return text[:i] + (sub.upper() if ch.isupper() else sub) + text[i + 1 :], kind
    if kind == "transposition" and text[i] != text[i + 1]:
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :], kind
    if kind == "doubled_letter":
        return text[:i] + ch + text[i:], kind
    return text[:i] + text[i + 1 :], "deletion"


class Corruptor:
    """Applies corruption at the configured rates and counts what it did."""

    def __init__(self, rates: Rates, rng: random.Random, nicknames: dict[str, tuple[str, ...]]):
        self.rates = rates
        self.rng = rng
        self.nicknames = nicknames
        #: kind -> [opportunities, applications]
        self.tally: dict[str, list[int]] = {}

    def roll(self, kind: str, rate: float | None = None) -> bool:
        """One opportunity for `kind`; True (and counted) with probability `rate`."""
        counts = self.tally.setdefault(kind, [0, 0])
        counts[0] += 1
        if self.rng.random() < (getattr(self.rates, kind) if rate is None else rate):
            counts[1] += 1
            return True
        return False

    # names -----------------------------------------------------------------------------------
    def names(
        self, given: str, family: str, middle: str | None = None
    ) -> tuple[str, str, str | None]:
        """(given, family, middle) as a clerk or a customer typed them."""
        rng = self.rng
        if given in self.nicknames and self.roll("nickname"):
            options = self.nicknames[given]
            given = options[rng.randrange(len(options))]
        elif self.roll("initial"):
            if middle and rng.random() < 0.5:
                middle = middle[0] + "."
            else:
                given = given[0] + ("." if rng.random() < 0.6 else "")
        if _accented(given + family) and self.roll("transliteration"):
            german = rng.random() < 0.6
            given, family = ascii_fold(given, german), ascii_fold(family, german)
        if self.roll("typo"):
            if rng.random() < 0.5:
                given = typo(given, rng)[0]
            else:
                family = typo(family, rng)[0]
        if self.roll("name_swap"):
            given, family = family, given
        if self.roll("junk"):
            family = JUNK_NAMES[rng.randrange(len(JUNK_NAMES))]
        return given, family, middle

    def missing(self) -> bool:
        return self.roll("missing")

    # contacts --------------------------------------------------------------------------------
    def email(self, email: str) -> str:
        rng = self.rng
        if self.roll("junk"):
            return JUNK_EMAILS[rng.randrange(len(JUNK_EMAILS))]
        local, _, domain = email.partition("@")
        if self.roll("email_typo"):
            if rng.random() < 0.8:
                local = typo(local, rng)[0]
            else:
                domain = typo(domain.split(".")[0], rng)[0] + domain[domain.index("."):]
        if self.roll("email_format"):
            style = rng.randrange(4)
            if style == 0:
                local, domain = local.title(), domain
            elif style == 1:
                local, domain = local.upper(), domain.upper()
            elif style == 2 and domain == "gmail.com":
                local = local.replace(".", "") if "." in local else local[:2] + "." + local[2:]
            else:
                local = f"{local}+{('shop', 'news', 'promo', 'spam')[rng.randrange(4)]}"
        return f"{local}@{domain}"

    def phone(self, phone: Phone, source_country: str, prefer_international: bool) -> str:
        """The number spelled the way this source's users write it."""
        rng = self.rng
        if self.roll("junk"):
            return JUNK_PHONES[rng.randrange(len(JUNK_PHONES))]
        if self.roll("phone_typo"):
            digits = list(phone.subscriber)
            i = rng.randrange(len(digits))
            digits[i] = str((int(digits[i]) + 1 + rng.randrange(8)) % 10)
            phone = Phone(phone.country, phone.calling_code, phone.area, "".join(digits))
        idd = "011" if source_country == "US" else "00"
        variant = self.roll("phone_format")
        foreign = phone.country != source_country
        if foreign or prefer_international:
            text = international(phone, rng.randrange(1, 4) if variant else 0, idd)
        else:
            text = national(phone, rng.randrange(1, 4) if variant else 0)
        if variant and rng.random() < 0.1:
            text = with_extension(text, rng.randrange(1, 999), rng.randrange(3))
        return text

    # addresses -------------------------------------------------------------------------------
    def street_line(self, address: Address, spec: LocaleSpec) -> str:
        """House number, street and unit on one line, in this locale's order and spelling."""
        rng = self.rng
        street = address.street
        unit_word = spec.unit_words[0]
        variant = self.roll("address_format")
        if variant:
            for long, shorts in spec.street_words:
                if long in street:
                    street = street.replace(long, shorts[rng.randrange(len(shorts))])
                    break
            unit_word = spec.unit_words[rng.randrange(len(spec.unit_words))]
        if self.roll("typo"):
            street = typo(street, rng)[0]
        if spec.house_number_first:
            sep = ", " if spec.country == "FR" and (not variant or rng.random() < 0.5) else " "
            line = f"{address.house_number}{sep}{street}"
        else:
            line = f"{street} {address.house_number}"
        if address.unit:
            joiner = "" if unit_word == "#" else " "
            line += f", {unit_word}{joiner}{address.unit}" if not variant else \
                f" {unit_word}{joiner}{address.unit}"
        return line

    def birth_date(self, day: date) -> date:
        if self.roll("junk"):
            return JUNK_DATE
        if self.roll("typo") and day.day <= 12 and day.day != day.month:
            return date(day.year, day.day, day.month)  # day and month swapped
        return day

    def postcode(self, code: str) -> str:
        if self.roll("typo"):
            return typo(code, self.rng)[0]
        return code


def _accented(text: str) -> bool:
    return not text.isascii()
