"""Dispatch by kind (`standardize`) and whole-record standardization (`standardize_record`)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from typing import Any, Final

from ucp.domain.attributes import CANONICAL_ATTRIBUTES
from ucp.domain.standardize.address import standardize_address
from ucp.domain.standardize.date import standardize_date
from ucp.domain.standardize.email import standardize_email
from ucp.domain.standardize.name import standardize_full_name, standardize_name_part
from ucp.domain.standardize.phone import standardize_phone
from ucp.domain.standardize.postcode import standardize_postcode
from ucp.domain.standardize.result import Context, Standardized, make
from ucp.domain.standardize.simple import (
    standardize_country,
    standardize_gender,
    standardize_text,
)

_Standardizer = Callable[[str | None, Context], Standardized]

def _dispatch(cached: bool) -> dict[str, _Standardizer]:
    """Kind -> standardizer; `cached=False`: the same functions without their result caches."""

    def pick(fn: Any) -> Any:
        return fn if cached else fn.__wrapped__

    text, full_name, name_part, email = (pick(f) for f in (
        standardize_text, standardize_full_name, standardize_name_part, standardize_email))
    phone, address, postcode = (pick(f) for f in (
        standardize_phone, standardize_address, standardize_postcode))
    country, gender, date = (pick(f) for f in (
        standardize_country, standardize_gender, standardize_date))
    return {
        "text": lambda raw, ctx: text(raw),
        "name": lambda raw, ctx: full_name(raw),
        "given_name": lambda raw, ctx: name_part(raw, "given_name"),
        "family_name": lambda raw, ctx: name_part(raw, "family_name"),
        "email": lambda raw, ctx: email(raw),
        "phone": lambda raw, ctx: phone(raw, ctx.country),
        "address": lambda raw, ctx: address(raw, ctx.country),
        "postcode": lambda raw, ctx: postcode(raw, ctx.country),
        "country": lambda raw, ctx: country(raw),
        "gender": lambda raw, ctx: gender(raw),
        "date": lambda raw, ctx: date(
            raw, "date", ctx.date_order, ctx.country, ctx.resolved_today()),
        "timestamp": lambda raw, ctx: date(
            raw, "timestamp", ctx.date_order, ctx.country, ctx.resolved_today()),
    }


_DISPATCH: Final[dict[str, _Standardizer]] = _dispatch(cached=True)
#: the same standardizers without their result caches (`standardize_once`)
_DISPATCH_ONCE: Final[dict[str, _Standardizer]] = _dispatch(cached=False)

#: every standardizer kind, in a stable order
KINDS: Final[tuple[str, ...]] = tuple(sorted(_DISPATCH))

_DEFAULT_CONTEXT: Final = Context()


def _as_text(raw: object) -> str | None:
    if raw is None or isinstance(raw, str):
        return raw
    if isinstance(raw, bool):
        return str(raw).lower()
    if isinstance(raw, float):
        if math.isnan(raw) or math.isinf(raw):
            return None
        if raw.is_integer() and abs(raw) < 1e17:
            return str(int(raw))
    return str(raw)


def standardize(kind: str, raw: object, ctx: Context = _DEFAULT_CONTEXT) -> Standardized:
    """Standardize one raw value of the given kind; never raises except for an unknown kind.

    Example:
        >>> standardize("phone", "0044-20-79460958", Context(country="DE")).match
        '+442079460958'
    """
    return _run(_DISPATCH, kind, raw, ctx)


def standardize_once(kind: str, raw: object, ctx: Context = _DEFAULT_CONTEXT) -> Standardized:
    """`standardize` for a value not asked for again (one of a column's distinct values).

    The result is the same; it is just not kept in the per-kind result caches, where it
    would only take memory and make every garbage collection pass longer.

    Example:
        >>> standardize_once("email", "Ann@Example.ORG").value == standardize(
        ...     "email", "Ann@Example.ORG").value
        True
    """
    return _run(_DISPATCH_ONCE, kind, raw, ctx)


def _run(dispatch: dict[str, _Standardizer], kind: str, raw: object,
         ctx: Context) -> Standardized:
    try:
        standardizer = dispatch[kind]
    except KeyError:
        raise ValueError(f"unknown kind {kind!r}; kinds are: {', '.join(KINDS)}") from None
    text = _as_text(raw)
    try:
        return standardizer(text, ctx)
    except Exception:  # noqa: BLE001 - a standardizer must never crash ingestion
        return make(kind, text, None, None, flags=("error", "invalid"))


_FROM_NAME: Final[dict[str, str]] = {
    "given_name": "given", "family_name": "family", "middle_name": "middle", "title": "title"}
_FROM_ADDRESS: Final[tuple[str, ...]] = (
    "house_number", "street", "unit", "locality", "region", "postcode")


def _present(value: object) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def standardize_record(attributes: Mapping[str, object], ctx: Context) -> dict[str, Standardized]:
    """Standardize every present canonical attribute; derive name and address parts.

    The record's own `country` (else `ctx.country`) is the default country of its phone and
    postcode; a parsed `full_name` fills absent given/family/middle name and title, a full
    `address` fills absent house number, street, unit, locality, region and postcode.

    Example:
        >>> out = standardize_record({"full_name": "O'BRIEN, Robert"}, Context())
        >>> out["given_name"].match, out["family_name"].match
        ('robert', 'obrien')
    """
    out: dict[str, Standardized] = {}
    present = {k: v for k, v in attributes.items() if k in CANONICAL_ATTRIBUTES and _present(v)}
    if "country" in present:
        country = standardize("country", present["country"], ctx)
        out["country"] = country
        if country.value and country.value != ctx.country:
            ctx = dataclasses.replace(ctx, country=country.value)
    for attribute, raw in present.items():
        if attribute not in out:
            out[attribute] = standardize(CANONICAL_ATTRIBUTES[attribute], raw, ctx)
    full = out.get("full_name")
    if full is not None and full.value and "company_like" not in full.flags:
        for attribute, part in _FROM_NAME.items():
            if attribute not in out and full.parts.get(part):
                out[attribute] = standardize(
                    CANONICAL_ATTRIBUTES[attribute], full.parts[part], ctx)
    address = out.get("address")
    if address is not None and address.value:
        address_country = address.parts.get("country")
        if address_country and "country" not in out:
            out["country"] = standardize("country", address_country, ctx)
            ctx = dataclasses.replace(ctx, country=address_country)
        for attribute in _FROM_ADDRESS:
            if attribute not in out and address.parts.get(attribute):
                out[attribute] = standardize(
                    CANONICAL_ATTRIBUTES[attribute], address.parts[attribute], ctx)
    return out
