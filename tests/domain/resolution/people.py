"""Small person records for the resolution tests, standardized the way ingest stores them."""

from __future__ import annotations

from typing import Any

from ucp.domain.model import Identifier, RecordKey, ResolvableRecord
from ucp.domain.standardize import Context, standardize_record

CTX = Context(country="GB")


def person(key: str, source: str = "crm", *, ids: tuple[str, ...] = (),
           **attributes: Any) -> ResolvableRecord:
    """A record with standardized attributes stored as `{attr: {raw, value, match, parts,
    flags}}` and identifiers written as "type:value"."""
    std = standardize_record(attributes, CTX)
    stored = {name: {"raw": s.input, "value": s.value, "match": s.match,
                     "parts": dict(s.parts), "flags": list(s.flags)}
              for name, s in sorted(std.items())}
    idents = tuple(Identifier(*i.split(":", 1)) for i in ids)
    return ResolvableRecord(RecordKey(source, key), idents, stored)


GIVEN = ["Olivia", "Amelia", "Isla", "Ava", "Mia", "Noah", "Oliver", "George", "Arthur", "Leo",
         "Harry", "Oscar", "Archie", "Henry", "Theo", "Freya", "Lily", "Ivy", "Grace", "Zyzzyva"]
FAMILY = ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies",
          "Patel", "Wright", "Khan", "Evans", "Walker", "Thompson", "Okafor", "Nakamura"]
STREETS = ["High Street", "Station Road", "Church Lane", "Mill Road", "Park Avenue"]


def _typo(text: str, k: int) -> str:
    i = 1 + k % max(len(text) - 2, 1)
    return text[:i] + text[i + 1:] if len(text) > 3 else text


def population() -> list[ResolvableRecord]:
    """~330 records of 150 people: typo'd duplicates, households, twins, a shared shop phone."""
    records: list[ResolvableRecord] = []
    n = 0

    def add(source: str = "shop", **attrs: Any) -> None:
        nonlocal n
        ids = attrs.pop("ids", ())
        records.append(person(f"r{n:03d}", source, ids=ids, **attrs))
        n += 1

    for p in range(150):
        given, family = GIVEN[p % len(GIVEN)], FAMILY[(p * 7 + p // 20) % len(FAMILY)]
        dob = f"{1940 + p % 60}-{1 + p % 12:02d}-{1 + (p * 3) % 28:02d}"
        street = f"{1 + p} {STREETS[p % len(STREETS)]}"
        email = f"{given.lower()}.{family.lower()}{p}@mail.com"
        base = {"given_name": given, "family_name": family, "birth_date": dob,
                "street": street, "locality": "Leeds" if p % 2 else "York",
                "postcode": f"LS{p % 9} {p % 10}AB"}
        add(source="crm", **base, email=email, ids=(f"email:{email}",))
        if p % 3 != 2:
            add(**{**base, "family_name": _typo(family, p), "email": email},
                ids=(f"email:{email}",))
        if p % 4 == 0:
            add(source="support", **{**base, "given_name": given[0], "street": ""})
        if p % 10 == 0:  # a household member: same family and address, another person
            add(source="crm", **{**base, "given_name": GIVEN[(p + 7) % len(GIVEN)],
                                 "birth_date": f"{1990 + p % 20}-02-02"})
        if p % 16 == 0:  # a twin: same family, birth date and address, another given name
            add(source="crm", **{**base, "given_name": GIVEN[(p + 3) % len(GIVEN)],
                                 "email": f"twin{p}@mail.com"})
    for k in range(4):  # a shop's phone given by unrelated customers
        add(given_name=GIVEN[k * 3], family_name=FAMILY[k * 2], phone="020 7946 0000",
            ids=("phone:+442079460000",))
    return records
