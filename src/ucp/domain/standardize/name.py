"""Person-name standardization: parsing, display casing, folded keys, nicknames, phonetics."""

from __future__ import annotations

import re
from functools import cache, lru_cache
from typing import Any, Final

import jellyfish

from ucp.domain.standardize.result import Standardized, make
from ucp.domain.standardize.simple import clean_text, fold, fold_key, is_placeholder_text

PARTICLES: Final[frozenset[str]] = frozenset({
    "van", "von", "der", "den", "de", "del", "della", "dei", "degli", "di", "da", "la", "le",
    "du", "des", "dos", "das", "do", "ter", "ten", "te", "zu", "zum", "zur", "af", "av", "y",
    "bin", "ibn", "el", "st", "ste", "vander", "vanden", "op",
})
_ROMAN: Final[frozenset[str]] = frozenset({"ii", "iii", "iv", "vi", "vii", "viii", "ix"})
_SUFFIX_CASE: Final[dict[str, str]] = {"jr": "Jr", "jr.": "Jr.", "sr": "Sr", "sr.": "Sr.",
                                       "phd": "PhD", "md": "MD", "esq": "Esq", "esq.": "Esq."}
_MAC_EXCEPTIONS: Final[frozenset[str]] = frozenset({
    "mackey", "mackie", "mackin", "macklin", "mackle", "mackay", "macon", "macey", "macy",
    "machin", "machado", "macias", "macedo", "macek", "macha", "machon", "mackenzie",
    "macken", "mackler", "macri", "maciel", "macina", "macario", "macbeth",
})
_COMPANY_WORDS: Final[frozenset[str]] = frozenset({
    "ltd", "llc", "gmbh", "inc", "corp", "corporation", "plc", "ag", "sa", "sas", "sarl",
    "sasu", "eurl", "bv", "nv", "kg", "ohg", "ug", "gbr", "limited", "holdings", "holding",
    "llp", "lp", "pty", "srl", "spa", "ev", "kgaa", "company", "incorporated", "partners",
    "group", "mbh", "cie", "co", "associates", "enterprises", "foundation", "verein",
})
_COMPANY_PHRASES = re.compile(r"(?:&|\band)\s+(?:sons|co|cie|partners|söhne|soehne)\b", re.I)
_PLACEHOLDER_KEYS: Final[frozenset[str]] = frozenset({
    "test", "testtest", "testuser", "testname", "tester", "na", "unknown", "unbekannt",
    "inconnu", "xxx", "xxxx", "asdf", "asdfasdf", "qwerty", "none", "null", "noname", "nn",
    "anonymous", "anonym", "anonyme", "guest", "customer", "kunde", "client", "tbd", "dummy",
    "fake", "sample", "name", "firstname", "lastname", "surname", "vorname", "nachname",
    "nom", "prenom", "mickeymouse", "donaldduck", "abc", "aaa", "abcd", "undefined",
})
_PLACEHOLDER_WORDS: Final[frozenset[str]] = frozenset({"test", "asdf", "xxx", "qwerty", "dummy"})
_SEGMENTS = re.compile(r"([-'])")
_HAS_LETTER = re.compile(r"[^\W\d_]")
_NOT_ALNUM_RUN = re.compile(r"[^a-z0-9]+")
_NOT_LETTER = re.compile(r"[^a-z]")


# -- nicknames ------------------------------------------------------------------------------


@cache
def _nickname_tables() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    from nicknames import NickNamer

    nicknames_of = NickNamer.default_lookup()
    canonicals_of: dict[str, set[str]] = {}
    for canonical, nicks in nicknames_of.items():
        for nick in nicks:
            canonicals_of.setdefault(nick, set()).add(canonical)
    return nicknames_of, canonicals_of


def _rank(name: str, nicknames_of: dict[str, set[str]]) -> tuple[int, int, str]:
    # The nicknames data links names both ways (bob <-> robert); the name with more
    # nicknames (then the longer name) is taken as the more formal one, a strict order.
    return (len(nicknames_of.get(name, ())), len(name), name)


#: short forms whose formal name the data set leaves ambiguous (None: a formal name itself)
_CANONICAL_OVERRIDES: Final[dict[str, frozenset[str] | None]] = {
    **dict.fromkeys(["bob", "bobby", "rob", "robbie", "robby", "bert"], frozenset({"robert"})),
    **dict.fromkeys(["bill", "billy", "will", "willy", "willie", "liam"],
                    frozenset({"william"})),
    **dict.fromkeys(["jim", "jimmy", "jamie"], frozenset({"james"})),
    **dict.fromkeys(["tom", "tommy"], frozenset({"thomas"})),
    **dict.fromkeys(["dick", "rick", "ricky", "richie"], frozenset({"richard"})),
    **dict.fromkeys(["mike", "mikey", "mick"], frozenset({"michael"})),
    **dict.fromkeys(["dave", "davy"], frozenset({"david"})),
    **dict.fromkeys(["chris"], frozenset({"christopher", "christian", "christine", "christina"})),
    **dict.fromkeys(["steve", "stevie"], frozenset({"stephen", "steven"})),
    **dict.fromkeys(["jack", "johnny", "jon"], frozenset({"john", "jonathan"})),
    **dict.fromkeys(["kate", "katie", "kathy", "cathy"], frozenset({"catherine", "katherine"})),
    **dict.fromkeys(["beth", "liz", "lizzie", "betty", "betsy", "eliza"],
                    frozenset({"elizabeth"})),
    **dict.fromkeys(["fred", "freddy", "freddie"], frozenset({"frederick", "alfred"})),
    **dict.fromkeys(["tony"], frozenset({"anthony", "antonia"})),
    **dict.fromkeys(["sam", "sammy"], frozenset({"samuel", "samantha"})),
    **dict.fromkeys(["jean", "pierre", "marie", "hans", "jan"], None),
    **dict.fromkeys(["sepp"], frozenset({"josef"})),
}


@lru_cache(maxsize=16384)
def _canonicals(key: str) -> frozenset[str]:
    if key in _CANONICAL_OVERRIDES:
        return _CANONICAL_OVERRIDES[key] or frozenset({key})
    nicknames_of, canonicals_of = _nickname_tables()
    if len(nicknames_of.get(key, ())) >= 3:
        return frozenset({key})  # a formal name in its own right (john, anna, mary)
    rank = _rank(key, nicknames_of)
    above = {c for c in canonicals_of.get(key, ()) if _rank(c, nicknames_of) > rank}
    formal = {c for c in above if len(nicknames_of.get(c, ())) >= 3}
    return frozenset(formal or above or {key})


def name_canonical_set(given: str) -> frozenset[str]:
    """The formal names a given name may stand for: Bob -> {robert}; Bill -> {robert, william}.

    Example:
        >>> sorted(name_canonical_set("Bobby"))
        ['robert']
    """
    key = fold_key(given or "")
    return _canonicals(key) if key else frozenset()


# -- display casing -------------------------------------------------------------------------


def _case_segment(seg: str) -> str:
    low = seg.lower()
    if low.startswith("mc") and len(low) > 3:
        return "Mc" + low[2:].capitalize()
    mac = low.startswith("mac") and len(low) > 6 and low[3] not in "aeiouh"
    if mac and low not in _MAC_EXCEPTIONS:
        return "Mac" + low[3:].capitalize()
    return low.capitalize()


def _single_case(text: str) -> bool:
    """All-caps or all-lower ('ß' has no capital in common use, so it does not count)."""
    bare = text.replace("ß", "")
    return bare.isupper() or bare.islower()


def _case_token(token: str, position: int, count: int) -> str:
    letters = [c for c in token if c.isalpha()]
    if not letters or not _single_case(token):
        return token  # mixed case is kept as the source wrote it
    low = token.lower()
    if low in PARTICLES and position < count - 1 and (position > 0 or count > 2):
        return low
    if low in _ROMAN or (len(letters) == 1 and token.endswith(".")):
        return token.upper()
    if low in _SUFFIX_CASE:
        return _SUFFIX_CASE[low]
    pieces = _SEGMENTS.split(token)
    out: list[str] = []
    for i, piece in enumerate(pieces):
        if piece in "-'" or not piece:
            out.append(piece)
        elif i + 1 < len(pieces) and pieces[i + 1] == "'" and len(piece) == 1:
            out.append(piece.lower() if piece.lower() in "dl" else piece.upper())
        else:
            out.append(_case_segment(piece))
    return "".join(out)


def display_case(text: str, *, family: bool = False) -> str:
    """Fix all-caps / all-lower words, keeping particles (van der Berg) and prefixes (McDonald)."""
    tokens = text.split(" ")
    count = len(tokens) + (1 if family else 0)
    offset = 1 if family else 0
    return " ".join(_case_token(t, i + offset, count) for i, t in enumerate(tokens))


# -- flags ----------------------------------------------------------------------------------


def is_company_like(text: str) -> bool:
    """True when a name carries a legal-form word (Ltd, GmbH, S.A. …) or '& Sons'."""
    words = set(_NOT_ALNUM_RUN.split(fold(text).replace(".", "")))
    return bool(words & _COMPANY_WORDS) or bool(_COMPANY_PHRASES.search(text))


_LEGAL_FORMS: Final[dict[str, str]] = {
    w.lower().replace(".", ""): w for w in (
        "LLC", "Ltd", "GmbH", "Inc", "Corp", "PLC", "AG", "S.A.", "SAS", "SARL", "BV", "NV", "KG",
        "OHG", "UG", "GbR", "LLP", "LP", "Pty", "Srl", "SpA", "e.V.", "KGaA", "Cie", "Co", "mbH")
}


def company_case(text: str) -> str:
    """Company names keep their case; all-caps/all-lower input gets words and legal forms fixed."""
    if not _single_case(text):
        return text
    words = []
    for word in text.split(" "):
        low = word.lower()
        legal = _LEGAL_FORMS.get(low.replace(".", ""))
        words.append(legal or (low if low in ("and", "und", "et", "&") else low.capitalize()))
    return " ".join(words)


@cache
def _name_constants() -> Any:
    """nameparser's constants plus French and German forms of address (a private copy)."""
    from nameparser.config import Constants

    constants = Constants()
    constants.titles.add("m", "mme", "mlle", "me", "herr", "frau", "monsieur", "madame",
                         "mademoiselle", "hr", "fr", "prof", "dipl", "ing")
    return constants


def _is_placeholder(text: str, key: str) -> bool:
    if is_placeholder_text(text) or key in _PLACEHOLDER_KEYS:
        return True
    if len(key) >= 3 and len(set(key)) == 1:
        return True
    words = set(_NOT_ALNUM_RUN.split(fold(text)))
    return bool(words & _PLACEHOLDER_WORDS)


def _phonetic(prefix: str, key: str) -> dict[str, str]:
    letters = _NOT_LETTER.sub("", key)
    if not letters:
        return {}
    return {f"{prefix}metaphone": jellyfish.metaphone(letters),
            f"{prefix}nysiis": jellyfish.nysiis(letters)}


# -- standardizers --------------------------------------------------------------------------


@lru_cache(maxsize=65536)
def standardize_name_part(raw: str | None, kind: str = "given_name") -> Standardized:
    """A single given or family name: display case, folded key, canonical set, phonetics.

    Example:
        >>> standardize_name_part("BOB", "given_name").parts["canonical"]
        'robert'
    """
    if raw is None:
        return make(kind, None, None, None)
    text = clean_text(raw).strip(" ,;")
    key = fold_key(text)
    if _is_placeholder(text, key):
        return make(kind, raw, None, None, flags=("placeholder",))
    if not _HAS_LETTER.search(text) or not key:
        return make(kind, raw, None, None, flags=("invalid",))
    flags = ("company_like",) if is_company_like(text) else ()
    value = display_case(text, family=kind == "family_name")
    parts = {"key": key, **_phonetic("", key)}
    if kind == "given_name":
        parts["canonical"] = "|".join(sorted(name_canonical_set(text.split(" ")[0])))
    return make(kind, raw, value, key, parts, flags)


def _split_caps_family(text: str) -> str:
    """'MÜLLER Hans' (family in capitals first, a common register form) -> 'MÜLLER, Hans'."""
    tokens = text.split(" ")
    if len(tokens) < 2 or "," in text:
        return text
    caps = 0
    while caps < len(tokens) and tokens[caps].isupper() and len(tokens[caps]) > 1:
        caps += 1
    rest = tokens[caps:]
    if caps and tokens[0].lower().strip(".") in _name_constants().titles:
        return text
    if caps and rest and all(not t.isupper() and not t.islower() for t in rest):
        return " ".join(tokens[:caps]) + ", " + " ".join(rest)
    return text


@lru_cache(maxsize=65536)
def standardize_full_name(raw: str | None) -> Standardized:
    """A full name parsed into title/given/middle/family/suffix; match is 'given family' keys.

    Example:
        >>> standardize_full_name("O'BRIEN, Robert J.").match
        'robert obrien'
    """
    if raw is None:
        return make("name", None, None, None)
    text = clean_text(raw).strip(" ,;")
    key = fold_key(text)
    if _is_placeholder(text, key):
        return make("name", raw, None, None, flags=("placeholder",))
    if not _HAS_LETTER.search(text) or not key:
        return make("name", raw, None, None, flags=("invalid",))
    if is_company_like(text):
        value = company_case(text)
        return make("name", raw, value, fold_key(text), {"key": key}, ("company_like",))

    from nameparser import HumanName

    human = HumanName(_split_caps_family(text), constants=_name_constants())
    title, given, middle = human.title, human.first, human.middle
    family, suffix = human.last, human.suffix
    if not given and not family:
        given = text
    given_c = display_case(given) if given else ""
    family_c = display_case(family, family=True) if family else ""
    pieces = [display_case(title), given_c, display_case(middle), family_c, display_case(suffix)]
    value = " ".join(p for p in pieces if p)
    given_key, family_key = fold_key(given), fold_key(family)
    parts = {"title": display_case(title), "given": given_c, "middle": display_case(middle),
             "family": family_c, "suffix": display_case(suffix), "given_key": given_key,
             "family_key": family_key, **_phonetic("given_", given_key),
             **_phonetic("family_", family_key)}
    if given_key:
        parts["canonical"] = "|".join(sorted(name_canonical_set(given.split(" ")[0])))
    match = " ".join(k for k in (given_key, family_key) if k)
    return make("name", raw, value, match, parts)
