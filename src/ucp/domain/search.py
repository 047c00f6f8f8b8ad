"""Profile search terms: what a record can be found by, and how a query is read (pure)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_PHONE_QUERY = re.compile(r"^[\d\s+().\-/]+$")


def fold(text: str) -> str:
    """Lower-case ASCII letters and digits only (Müller → muller, O'Brien → obrien)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    ascii_only = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NON_ALNUM.sub("", ascii_only.replace("ß", "ss").replace("ø", "o"))


def record_terms(attributes: Mapping[str, Mapping[str, Any]]) -> set[tuple[str, str]]:
    """`(kind, term)` pairs from a record's standardized attributes."""
    terms: set[tuple[str, str]] = set()
    for name in ("given_name", "family_name", "middle_name"):
        value = (attributes.get(name) or {}).get("value")
        if value:
            for token in str(value).split():
                if folded := fold(token):
                    terms.add(("name", folded[:64]))
            if folded := fold(str(value)):
                terms.add(("name", folded[:64]))
    email = attributes.get("email") or {}
    for form in (email.get("value"), email.get("match")):
        if form:
            terms.add(("email", str(form).lower()[:320]))
    phone = attributes.get("phone") or {}
    if phone.get("match"):
        terms.add(("phone", str(phone["match"]).lstrip("+")))
    national = (phone.get("parts") or {}).get("national_number")
    if national:
        terms.add(("phone", str(national)))
    return terms


def parse_query(text: str) -> list[tuple[str, str]]:
    """`(kind, prefix)` conditions that must all hold (AND) for a query string."""
    text = text.strip()
    if "@" in text:
        return [("email", text.lower())]
    if _PHONE_QUERY.match(text) and sum(c.isdigit() for c in text) >= 3:
        return [("phone", re.sub(r"\D", "", text).lstrip("0"))]
    return [("name", f) for token in text.split() if (f := fold(token))]
