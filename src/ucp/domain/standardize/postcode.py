"""Postcode standardization: validated and normalized per country (US, GB, CA, DE, FR, AU …)."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Final

from ucp.domain.standardize.result import Standardized, make
from ucp.domain.standardize.simple import clean_text, is_placeholder_text

_GB = re.compile(r"([A-Z]{1,2}\d[A-Z\d]?)\s*(\d[ABD-HJLNP-UW-Z]{2})")
_CA = re.compile(r"([ABCEGHJ-NPRSTVXY]\d[A-Z])\s*-?\s*(\d[A-Z]\d)")
_US = re.compile(r"(\d{5})(?:\s*-?\s*(\d{4}))?")
_NL = re.compile(r"(\d{4})\s*([A-Z]{2})")
_FIVE = re.compile(r"\d{5}")
_FOUR = re.compile(r"\d{4}")
_OTHER = re.compile(r"[A-Z0-9][A-Z0-9 -]{1,9}")  # any other country's postcode
_SPACE_OR_DASH = re.compile(r"[\s-]")
_COUNTRY_PREFIX = re.compile(r"^(?:D|F|DE|FR|A|AT|CH|B|BE|L|LU|NL|GB|UK|US|USA)\s*-\s*(?=\d)")

#: countries whose postcodes are 5 digits and may lose a leading zero in spreadsheets
_FIVE_DIGIT: Final[frozenset[str]] = frozenset({"DE", "FR", "US", "IT", "ES", "FI", "MC"})
_FOUR_DIGIT: Final[frozenset[str]] = frozenset({"AU", "AT", "BE", "CH", "DK", "LU", "NO", "NZ",
                                                "HU", "ZA", "BG", "CY", "SI", "GE", "AM"})
_SHAPES: Final[dict[str, re.Pattern[str]]] = {"GB": _GB, "CA": _CA, "NL": _NL}


def normalize_postcode(text: str, country: str | None) -> tuple[str, str, str] | None:
    """(display, match, country) for a postcode, or None when it does not fit the country.

    Example:
        >>> normalize_postcode("sw1a1aa", "GB")
        ('SW1A 1AA', 'SW1A1AA', 'GB')
    """
    code = _COUNTRY_PREFIX.sub("", clean_text(text).upper()).strip()
    country = (country or "").upper() or None
    if country is None:
        for guess, pattern in (("GB", _GB), ("CA", _CA)):
            if pattern.fullmatch(code):
                return normalize_postcode(code, guess)
        zip4 = _US.fullmatch(code)
        if zip4 and zip4.group(2):
            return normalize_postcode(code, "US")
        if not _OTHER.fullmatch(code):
            return None
        return code, code.replace(" ", "").replace("-", ""), ""
    if country in ("GB", "IM", "JE", "GG"):
        country = "GB"
    if country in _SHAPES:
        found = _SHAPES[country].fullmatch(code)
        if not found:
            return None
        return f"{found.group(1)} {found.group(2)}", found.group(1) + found.group(2), country
    if country == "US":
        if code.isdigit() and len(code) in (3, 4):
            code = code.zfill(5)
        found = _US.fullmatch(code)
        if not found:
            return None
        if found.group(2):
            return f"{found.group(1)}-{found.group(2)}", found.group(1), country
        return found.group(1), found.group(1), country
    if country in _FIVE_DIGIT:
        if code.isdigit() and len(code) == 4:
            code = code.zfill(5)
        return (code, code, country) if _FIVE.fullmatch(code) else None
    if country in _FOUR_DIGIT:
        return (code, code, country) if _FOUR.fullmatch(code) else None
    if not _OTHER.fullmatch(code):
        return None
    return code, code.replace(" ", "").replace("-", ""), country


@lru_cache(maxsize=65536)
def standardize_postcode(raw: str | None, country: str | None = None) -> Standardized:
    """Postcode in the country's display form; match is compact (US: the 5-digit ZIP).

    Example:
        >>> standardize_postcode("62704-1234", "US").match
        '62704'
    """
    if raw is None:
        return make("postcode", None, None, None)
    text = clean_text(raw)
    compact = _SPACE_OR_DASH.sub("", text)
    if is_placeholder_text(text) or (compact and len(set(compact)) == 1 and compact[0] in "0X9x"):
        return make("postcode", raw, None, None, flags=("placeholder",))
    result = normalize_postcode(text, country)
    if result is None:
        return make("postcode", raw, None, None, flags=("invalid",))
    value, match, found = result
    parts = {"country": found}
    if found == "US" and "-" in value:
        parts["zip4"] = value[6:]
    if found == "GB":
        parts["outward"], parts["inward"] = value.split(" ")
    return make("postcode", raw, value, match, parts)
