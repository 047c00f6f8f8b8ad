"""The features an identity-resolution table reads from standardized attributes.

A record's attributes are standardized (`ucp.domain.standardize`); resolution compares their
matching forms, the *features* (`given`, `family_meta`, `dob`, `email`, `street` …). This
module maps one to the other, for stored attributes and for raw values of a file alike. It
imports no numpy: worker processes that standardize a file's values load just this and the
standardizers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final

from ucp.domain.standardize.address import street_key, street_parts
from ucp.domain.standardize.email import email_match
from ucp.domain.standardize.phone import phone_match
from ucp.domain.standardize.record import standardize_once
from ucp.domain.standardize.result import Context, Standardized
from ucp.domain.standardize.simple import fold_key, fold_words

_SPACE = re.compile(r"\s+")

#: the standardizer kind of each attribute a file's column can be recognised as
ATTRIBUTE_KINDS: Final[dict[str, str]] = {
    "given_name": "given_name", "family_name": "family_name", "full_name": "name",
    "birth_date": "date", "email": "email", "phone": "phone", "address": "address",
    "street": "address", "house_number": "text", "locality": "text", "postcode": "postcode",
    "region": "text", "gender": "gender", "country": "country"}


def _get(attr: Any, name: str) -> Any:
    # exact type checks first: an ABC isinstance check costs more than the lookup itself
    if type(attr) is Standardized:
        return getattr(attr, name, None)
    if type(attr) is dict or isinstance(attr, Mapping):
        return attr.get(name)
    return getattr(attr, name, None)


def _parts(attr: Any) -> Mapping[str, str]:
    parts = _get(attr, "parts")
    if type(parts) is MappingProxyType or type(parts) is dict:  # both Mappings; cheap checks
        return parts
    return parts if isinstance(parts, Mapping) else {}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ("" if value is None else str(value))


def street_features(street: str, house_number: str) -> dict[str, str]:
    """The features of a street line's street (as displayed) and house number."""
    out = {"street": street_key(street, None)} if street else {}
    if house_number:
        out["house_number"] = _SPACE.sub("", house_number.lower())
    return out


def attribute_features(name: str, attr: Any) -> dict[str, str]:
    """The table features one standardized attribute contributes (empty when unusable).

    `attr` is a stored attribute (`{"raw","value","match","parts","flags"}`) or a
    `Standardized`. Other attributes become `x:<name>` features (their folded match form).
    """
    if attr is None:
        return {}
    match = _text(_get(attr, "match"))
    parts = _parts(attr)
    if name == "given_name" and match:
        return {"given": match, "given_canon": parts.get("canonical", match),
                "given_meta": parts.get("metaphone", ""), "given_nysiis": parts.get("nysiis", "")}
    if name == "family_name" and match:
        return {"family": match, "family_meta": parts.get("metaphone", ""),
                "family_nysiis": parts.get("nysiis", "")}
    if name == "full_name" and match:
        out = {"given": parts.get("given_key", ""), "given_canon": parts.get("canonical", ""),
               "given_meta": parts.get("given_metaphone", ""),
               "given_nysiis": parts.get("given_nysiis", ""),
               "family": parts.get("family_key", ""),
               "family_meta": parts.get("family_metaphone", ""),
               "family_nysiis": parts.get("family_nysiis", "")}
        if out["given"] and not out["given_canon"]:
            out["given_canon"] = out["given"]
        return {k: v for k, v in out.items() if v}
    if name == "birth_date":
        return {"dob": match[:10]} if match else {}
    if name == "email":
        return {"email": match} if match else {}
    if name == "phone":
        return {"phone": match} if match else {}
    if name == "house_number":
        return {"house_number": _SPACE.sub("", match.lower())} if match else {}
    if name == "street":
        return street_features(parts.get("street") or match, parts.get("house_number", ""))
    if name == "address":
        found = {"house_number": _SPACE.sub("", parts.get("house_number", "").lower()),
                 "street": street_key(parts["street"], None) if parts.get("street") else "",
                 "postcode": fold_key(parts.get("postcode", "")),
                 "locality": fold_words(parts.get("locality", "")),
                 "region": fold_words(parts.get("region", ""))}
        return {k: v for k, v in found.items() if v}
    if name in ("locality", "region"):
        return {name: fold_words(match)} if match else {}
    if name == "postcode":
        return {"postcode": fold_key(match)} if match else {}
    if name == "gender":
        value = _text(_get(attr, "value"))
        return {"gender": value} if value else {}
    if name in ("address_2", "address_line2"):
        return {"address_line2": fold_words(match)} if match else {}
    if name in ("middle_name", "title", "country", "created_at", "updated_at"):
        return {}
    text = match or _text(_get(attr, "value"))
    return {f"x:{name}": fold_words(text)} if text else {}


#: attributes whose features win over the same features derived from a composite attribute
_COMPOSITES = ("full_name", "address")


def record_features(attributes: Mapping[str, Any]) -> dict[str, str]:
    """All base features of one record: composites first, specific attributes override them."""
    out: dict[str, str] = {}
    for name in _COMPOSITES:
        if name in attributes:
            out.update(attribute_features(name, attributes[name]))
    for name, attr in attributes.items():
        if name not in _COMPOSITES:
            out.update(attribute_features(name, attr))
    return out


def raw_features(attribute: str, raw: str, ctx: Context) -> dict[str, str]:
    """The features one raw value of an attribute (`ATTRIBUTE_KINDS`, or `address_line2`)
    gives: `attribute_features` of its standardized result, working out only what they read.
    """
    if attribute == "address_line2":
        return attribute_features("address_line2", {"match": fold_words(raw)})
    # phones, emails and street lines give the table a part of their standardized result:
    # just that part is worked out (the same as the whole result's)
    if attribute in ("phone", "email", "street"):
        try:
            if attribute == "street":
                return street_features(*street_parts(raw, ctx.country))
            match = phone_match(raw, ctx.country) if attribute == "phone" else email_match(raw)
        except Exception:  # noqa: BLE001 - as `standardize`: an unreadable value is no value
            return {}
        return {attribute: match} if match else {}
    # each distinct value comes once: caching its result would only slow the collector down
    return attribute_features(attribute, standardize_once(ATTRIBUTE_KINDS[attribute], raw, ctx))
