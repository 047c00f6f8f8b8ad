"""Small standardizers (text, gender, country) and the text folding the others share."""

from __future__ import annotations

import re
import unicodedata
from functools import cache, lru_cache
from typing import Final

from unidecode import unidecode

from ucp.domain.standardize.result import Standardized, make

_SPACE = re.compile(r"\s+")
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'", "\u00b4": "'"})

#: values that mean "nothing here" whatever the field
PLACEHOLDER_TEXT: Final[frozenset[str]] = frozenset(
    {"", "n/a", "na", "n.a.", "null", "none", "nil", "-", "--", "?", "??", ".", "unknown",
     "undefined", "not available", "not applicable", "tbd", "xxx", "x"}
)


def clean_text(raw: str) -> str:
    """NFC, typographic apostrophes to ', control characters dropped, whitespace collapsed."""
    if raw.isascii():
        # ASCII is NFC already and its only apostrophe to fix is the backtick
        text = raw.replace("`", "'") if "`" in raw else raw
        if text.isprintable():
            # printable ASCII has no whitespace but ' ': only double spaces need collapsing
            return _SPACE.sub(" ", text).strip() if "  " in text else text.strip()
    else:
        text = unicodedata.normalize("NFC", raw).translate(_APOSTROPHES)
    if not text.isprintable():
        text = "".join(ch if ch.isprintable() else " " for ch in text)
    return _SPACE.sub(" ", text).strip()


def fold(text: str) -> str:
    """Lower-case ASCII transliteration: Müller -> muller, Ørsted -> orsted, ß -> ss."""
    # unidecode returns ASCII text unchanged; transliteration is the slow part, so cached
    return text.lower() if text.isascii() else _fold_unicode(text)


@lru_cache(maxsize=65536)
def _fold_unicode(text: str) -> str:
    return unidecode(text).lower()


def fold_key(text: str) -> str:
    """`fold` with everything but letters and digits removed: O'Brien -> obrien."""
    return _NOT_ALNUM.sub("", fold(text))


def fold_words(text: str) -> str:
    """`fold` with runs of non-alphanumerics turned into single spaces."""
    return _NOT_ALNUM.sub(" ", fold(text)).strip()


def is_placeholder_text(text: str) -> bool:
    """True for the usual stand-ins for a missing value ("n/a", "null", "-", "?" …)."""
    return text.casefold() in PLACEHOLDER_TEXT


def _strip_marks(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@lru_cache(maxsize=65536)
def standardize_text(raw: str | None) -> Standardized:
    """Trim, collapse whitespace, NFC; the match form is case- and accent-folded."""
    if raw is None:
        return make("text", None, None, None)
    value = clean_text(raw)
    if is_placeholder_text(value):
        return make("text", raw, None, None, flags=("placeholder",))
    match = _SPACE.sub(" ", _strip_marks(value).casefold()).strip()
    return make("text", raw, value, match)


_GENDERS: Final[dict[str, str]] = {
    **dict.fromkeys(
        ["m", "male", "man", "mr", "mr.", "herr", "hr", "hr.", "monsieur", "m.", "mister", "boy",
         "masculin", "männlich", "maennlich", "mannlich", "homme", "h", "1"], "M"),
    **dict.fromkeys(
        ["f", "female", "woman", "w", "weiblich", "frau", "fr", "fr.", "femme", "féminin",
         "feminin", "mrs", "mrs.", "ms", "ms.", "miss", "mme", "mme.", "madame", "mlle",
         "mademoiselle", "girl", "2"], "F"),
    **dict.fromkeys(
        ["x", "d", "divers", "diverse", "non-binary", "nonbinary", "non binary", "nb", "other",
         "autre", "mx", "mx."], "X"),
}


@lru_cache(maxsize=1024)
def standardize_gender(raw: str | None) -> Standardized:
    """m/male/herr/monsieur/mr -> M; f/female/w/weiblich/femme/mrs/ms -> F; divers/other -> X."""
    if raw is None:
        return make("gender", None, None, None)
    text = clean_text(raw)
    code = _GENDERS.get(text.casefold())
    if code is not None:
        return make("gender", raw, code, code)
    if is_placeholder_text(text) or text.casefold() in {"u", "unk", "0", "9", "prefer not to say"}:
        return make("gender", raw, None, None, flags=("placeholder",))
    return make("gender", raw, None, None, flags=("unknown",))


_COUNTRY_ALIASES: Final[dict[str, str]] = {
    "uk": "GB", "u k": "GB", "england": "GB", "scotland": "GB", "wales": "GB",
    "northern ireland": "GB", "great britain": "GB", "britain": "GB", "united kingdom": "GB",
    "grossbritannien": "GB", "royaume uni": "GB", "angleterre": "GB",
    "usa": "US", "u s a": "US", "u s": "US", "united states": "US", "america": "US",
    "united states of america": "US", "etats unis": "US", "vereinigte staaten": "US",
    "deutschland": "DE", "allemagne": "DE", "germany": "DE", "brd": "DE", "alemania": "DE",
    "frankreich": "FR", "francia": "FR",
    "holland": "NL", "nederland": "NL", "niederlande": "NL", "pays bas": "NL",
    "the netherlands": "NL",
    "schweiz": "CH", "suisse": "CH", "svizzera": "CH",
    "osterreich": "AT", "oesterreich": "AT", "autriche": "AT",
    "espana": "ES", "espagne": "ES", "spanien": "ES",
    "italia": "IT", "italie": "IT", "italien": "IT",
    "belgique": "BE", "belgie": "BE", "belgien": "BE",
    "irland": "IE", "irlande": "IE", "eire": "IE",
    "russia": "RU", "south korea": "KR", "korea": "KR", "north korea": "KP", "vietnam": "VN",
    "czech republic": "CZ", "turkey": "TR", "iran": "IR", "syria": "SY", "laos": "LA",
    "bolivia": "BO", "venezuela": "VE", "tanzania": "TZ", "moldova": "MD", "taiwan": "TW",
    "ivory coast": "CI", "macedonia": "MK", "kosovo": "XK", "uae": "AE", "polen": "PL",
    "danemark": "DK", "danmark": "DK", "sverige": "SE", "norge": "NO", "suomi": "FI",
    "luxemburg": "LU", "polska": "PL", "portugal": "PT", "nouvelle zelande": "NZ",
}


@cache
def _country_index() -> dict[str, tuple[str, str, str]]:
    import pycountry

    index: dict[str, tuple[str, str, str]] = {}
    for c in pycountry.countries:
        entry = (c.alpha_2, c.alpha_3, c.name)
        names = [c.alpha_2, c.alpha_3, c.name]
        names += [getattr(c, a) for a in ("common_name", "official_name") if hasattr(c, a)]
        for name in names:
            index.setdefault(fold_words(name), entry)
    by_alpha2 = {e[0]: e for e in index.values()}
    for alias, alpha2 in _COUNTRY_ALIASES.items():
        if alpha2 in by_alpha2:
            index[alias] = by_alpha2[alpha2]
        elif alpha2 == "XK":
            index[alias] = ("XK", "XKX", "Kosovo")
    return index


def country_code(text: str) -> str | None:
    """The ISO 3166 alpha-2 code of a country name, alias or code, or None."""
    entry = _country_index().get(fold_words(text))
    return entry[0] if entry else None


@lru_cache(maxsize=4096)
def standardize_country(raw: str | None) -> Standardized:
    """Country names (several languages), aliases (UK, USA, England) and codes -> alpha-2."""
    if raw is None:
        return make("country", None, None, None)
    text = clean_text(raw)
    entry = _country_index().get(fold_words(text))
    if entry is None:
        flag = "placeholder" if is_placeholder_text(text) else "invalid"
        return make("country", raw, None, None, flags=(flag,))
    alpha2, alpha3, name = entry
    return make("country", raw, alpha2, alpha2, {"alpha3": alpha3, "name": name})
