"""Address standardization: parts and a locale-aware matching form for street addresses.

US-shaped single-line addresses go through usaddress; street lines and comma-separated
addresses in the UK, German and French shapes go through the rules below.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Final

from ucp.domain.standardize.postcode import normalize_postcode
from ucp.domain.standardize.result import Standardized, make
from ucp.domain.standardize.simple import clean_text, country_code, fold_words, is_placeholder_text

#: street-type, directional and unit words -> the token used in the matching form
_TOKENS: Final[dict[str, str]] = {
    **dict.fromkeys(["street", "st", "str", "strasse", "strase"], "st"),
    **dict.fromkeys(["avenue", "ave", "av", "avn", "aven"], "ave"),
    **dict.fromkeys(["road", "rd"], "rd"),
    **dict.fromkeys(["boulevard", "blvd", "bd", "boul", "bvd"], "blvd"),
    **dict.fromkeys(["drive", "dr", "drv"], "dr"),
    **dict.fromkeys(["lane", "ln"], "ln"),
    **dict.fromkeys(["court", "ct"], "ct"),
    **dict.fromkeys(["place", "pl"], "pl"),
    **dict.fromkeys(["square", "sq"], "sq"),
    **dict.fromkeys(["terrace", "ter", "terr"], "ter"),
    **dict.fromkeys(["crescent", "cres", "cresc"], "cres"),
    **dict.fromkeys(["close", "cl"], "cl"),
    **dict.fromkeys(["highway", "hwy"], "hwy"),
    **dict.fromkeys(["parkway", "pkwy", "pky"], "pkwy"),
    **dict.fromkeys(["circle", "cir"], "cir"),
    **dict.fromkeys(["gardens", "gdns"], "gdns"),
    **dict.fromkeys(["mount", "mt"], "mt"),
    **dict.fromkeys(["saint"], "st"),
    **dict.fromkeys(["north", "n"], "n"), **dict.fromkeys(["south", "s"], "s"),
    **dict.fromkeys(["east", "e"], "e"), **dict.fromkeys(["west", "w"], "w"),
    **dict.fromkeys(["northeast", "ne"], "ne"), **dict.fromkeys(["northwest", "nw"], "nw"),
    **dict.fromkeys(["southeast", "se"], "se"), **dict.fromkeys(["southwest", "sw"], "sw"),
    **dict.fromkeys(["impasse", "imp"], "imp"),
    **dict.fromkeys(["chemin", "ch", "chem"], "ch"),
    **dict.fromkeys(["route", "rte"], "rte"),
    **dict.fromkeys(["faubourg", "fbg"], "fbg"),
    **dict.fromkeys(["allee", "all"], "allee"),
}
#: locale-specific words: in German 'str' is Straße (not Street), in French 'r' is rue
_LOCALE_TOKENS: Final[dict[str, dict[str, str]]] = {
    "DE": {"str": "str", "st": "str", "strasse": "str", "strase": "str", "street": "str",
           "pl": "platz"},
    "AT": {"str": "str", "strasse": "str", "strase": "str"},
    "CH": {"str": "str", "strasse": "str", "strase": "str"},
    "FR": {"r": "rue", "pl": "pl"},
}
_GERMAN_SUFFIX = re.compile(r"(?<=\w)(strasse|strase|str)$")
#: a token can only hold `_GERMAN_SUFFIX` when it ends with one of these (street_key's tokens
#: are [a-z0-9] only, so `$` means the end of the token)
_GERMAN_ENDINGS: Final[tuple[str, ...]] = ("strasse", "strase", "str")
_UNIT_WORDS = (r"apartment|apt|appt|appartement|app|flat|unit|suite|ste|wohnung|whg|room|rm"
               r"|#|no\.? *#")
_UNIT = re.compile(rf"(?:^|[\s,]+)(?:{_UNIT_WORDS})\.?\s*#?\s*(\w[\w/-]*)\s*(?=,|$)", re.I)
_UNIT_ONLY = re.compile(rf"^(?:{_UNIT_WORDS})\.?\s*#?\s*(\w[\w/-]*)$", re.I)
_NUMBER_FIRST = re.compile(
    r"^(\d+[A-Za-z]?(?:\s?(?:bis|ter|quater)\b)?(?:\s?[-/]\s?\d+[A-Za-z]?)?)\b[\s,]*(.+)$",
    re.I)
_NUMBER_LAST = re.compile(r"^(\D.*?)[\s,]+(\d+\s?[A-Za-z]?(?:\s?[-/]\s?\d+[A-Za-z]?)?)$")
_STATES: Final[frozenset[str]] = frozenset(
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH "  # noqa: SIM905
    "NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR GU VI AS MP "
    "AB BC MB NB NL NS NT NU ON PE QC SK YT NSW VIC QLD TAS ACT".split()
)
_LOWER_WORDS: Final[frozenset[str]] = frozenset(
    {"de", "la", "le", "les", "du", "des", "d", "l", "of", "the", "and", "am", "an", "der", "im",
     "auf", "von", "zum", "zur", "sur", "sous", "en", "et", "aux", "au", "bis", "ter"}
)
#: postcode patterns searched inside an address segment, per country
_POSTCODE_IN_TEXT: Final[dict[str, re.Pattern[str]]] = {
    "GB": re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b", re.I),
    "CA": re.compile(r"\b[A-Z]\d[A-Z]\s?\d[A-Z]\d\b", re.I),
    "US": re.compile(r"\b\d{5}(?:-\d{4})?$"),
    "NL": re.compile(r"\b\d{4}\s?[A-Z]{2}\b"),
    "AU": re.compile(r"\b\d{4}$"),
    "5": re.compile(r"(?:^|\b[A-Z]{1,2}-)\d{5}\b"),
}
_INLINE_FIVE = re.compile(r"\b\d{5}\b")


_FOUR_DIGIT_POSTCODE = re.compile(r"(?:^|\b[A-Z]{1,2}-)\d{4}\b")


@lru_cache(maxsize=1024)
def _postcode_pattern(country: str | None) -> tuple[re.Pattern[str], ...]:
    # cached: called for every address, and the answer depends on the country only
    if country in _POSTCODE_IN_TEXT:
        return (_POSTCODE_IN_TEXT[country],)
    if country in ("DE", "FR", "IT", "ES", "FI"):
        return (_POSTCODE_IN_TEXT["5"],)
    if country in ("AT", "CH", "BE", "LU", "DK", "NO"):
        return (_FOUR_DIGIT_POSTCODE,)
    if country is None:
        return tuple(_POSTCODE_IN_TEXT[k] for k in ("GB", "CA", "US", "5"))
    return ()


#: what any match of each in-text postcode pattern (as `_split_one_line` uses them) must
#: contain: one cheap search rules a street line out before several `finditer` scans
_PATTERN_NEEDS: Final[dict[re.Pattern[str], str]] = {
    _POSTCODE_IN_TEXT["GB"]: r"[A-Z]\d",
    _POSTCODE_IN_TEXT["CA"]: r"[A-Z]\d",
    _POSTCODE_IN_TEXT["US"]: r"\d{5}",
    _POSTCODE_IN_TEXT["NL"]: r"\d{4}",
    _POSTCODE_IN_TEXT["AU"]: r"\d{4}",
    _INLINE_FIVE: r"\d{5}",
    _FOUR_DIGIT_POSTCODE: r"\d{4}",
}


@lru_cache(maxsize=1024)
def _inline_postcode_patterns(
    country: str | None,
) -> tuple[re.Pattern[str] | None, tuple[re.Pattern[str], ...]]:
    """The patterns `_split_one_line` tries and one pattern that finds every possible match's
    necessary part (None: no shortcut). The needs use [A-Z] under IGNORECASE exactly as the
    postcode patterns do, so they accept the same letters."""
    five = _POSTCODE_IN_TEXT["5"]
    patterns = tuple(_INLINE_FIVE if p is five else p for p in _postcode_pattern(country))
    needs = [_PATTERN_NEEDS.get(p) for p in patterns]
    if not patterns or None in needs:
        return None, patterns
    return re.compile("|".join(sorted({n for n in needs if n})), re.I), patterns


def _last_match(pattern: re.Pattern[str], text: str) -> re.Match[str] | None:
    found = None
    for found in pattern.finditer(text):  # noqa: B007 - the last one is wanted
        pass
    return found


@lru_cache(maxsize=65536)
def street_key(street: str, country: str | None) -> str:
    """The matching form of a street name: folded, street types and directionals abbreviated.

    Example:
        >>> street_key("Hauptstraße", "DE")
        'hauptstr'
    """
    local = _LOCALE_TOKENS.get(country or "", {})
    german = country in ("DE", "AT", "CH") or country is None
    out: list[str] = []
    for token in fold_words(street).split(" "):
        # endswith first: the suffix search is the costly part and most tokens fail it
        if german and token.endswith(_GERMAN_ENDINGS) and \
                (found := _GERMAN_SUFFIX.search(token)) and found.start() > 1:
            token = token[: found.start()] + "str"
        out.append(local.get(token) or _TOKENS.get(token, token))
    return " ".join(t for t in out if t)


def _display(text: str) -> str:
    if not (text.isupper() or text.islower()):
        return text  # mixed case is kept as the source wrote it
    words = text.split(" ")
    out = []
    for i, word in enumerate(words):
        if word.isupper() or word.islower():
            low = word.lower()
            if i > 0 and low in _LOWER_WORDS:
                word = low
            elif "'" in low and low.index("'") == 1:
                word = low[:2] + low[2:].capitalize()
            elif word[:1].isdigit():
                word = word.upper()
            else:
                word = "-".join(p.capitalize() for p in low.split("-"))
        out.append(word)
    return " ".join(out)


def _parse_street_line(line: str, parts: dict[str, str]) -> None:
    found = _UNIT.search(line)
    if found:
        parts["unit"] = found.group(1)
        line = (line[: found.start()] + line[found.end():]).strip(" ,")
    number_first = _NUMBER_FIRST.match(line)
    if number_first and not number_first.group(2)[:1].isdigit():
        parts["house_number"], parts["street"] = number_first.group(1), number_first.group(2)
    elif number_last := _NUMBER_LAST.match(line):  # only needed when number_first is not
        parts["street"], parts["house_number"] = number_last.group(1), number_last.group(2)
        parts["_number_last"] = "1"
    else:
        parts["street"] = line
    parts["street"] = parts["street"].strip(" ,")
    if "house_number" in parts:
        parts["house_number"] = parts["house_number"].strip()


def _looks_like_street(segment: str) -> bool:
    if _NUMBER_FIRST.match(segment) or _NUMBER_LAST.match(segment):
        return True
    return any(t in _TOKENS or t in ("rue", "weg", "platz", "allee") or
               _GERMAN_SUFFIX.search(t) is not None for t in fold_words(segment).split(" "))


def _take_postcode(
    segments: list[str], start: int, country: str | None, parts: dict[str, str]
) -> int:
    """Find the postcode from the end; returns the index of its segment (or -1)."""
    for index in range(len(segments) - 1, start, -1):
        segment = segments[index]
        for pattern in _postcode_pattern(country):
            found = _last_match(pattern, segment)
            if found is None:
                continue
            normal = normalize_postcode(found.group(0), country)
            if normal is None:
                continue
            parts["postcode"] = normal[0]
            if normal[2] and "country" not in parts:
                parts["country"] = normal[2]
            rest = (segment[: found.start()] + " " + segment[found.end():]).strip(" ,-")
            segments[index] = rest
            return index
    return -1


def _fill_places(
    segments: list[str], start: int, country: str | None, parts: dict[str, str]
) -> None:
    """Unit, locality and region from the segments after the street line."""
    rest = []
    for segment in segments[start:]:
        if unit := _UNIT_ONLY.match(segment):
            parts.setdefault("unit", unit.group(1))
        elif segment:
            rest.append(segment)
    if not rest:
        return
    tail = rest[-1]
    words = tail.split(" ")
    regional = country in (None, "US", "CA", "AU")
    if regional and words[-1].upper() in _STATES and (len(words) > 1 or len(rest) > 1):
        parts["region"] = words[-1].upper()
        tail = " ".join(words[:-1]).strip(" ,")
        if not tail:
            rest = rest[:-1]
            tail = rest[-1] if rest else ""
        if country is None:
            parts.setdefault("country", _REGION_COUNTRY.get(parts["region"], "US"))
    if tail:
        parts["locality"] = _display(tail)


def _parse_usaddress(text: str, parts: dict[str, str]) -> bool:
    import usaddress  # type: ignore[import-untyped]

    try:
        tagged, kind = usaddress.tag(text)
    except usaddress.RepeatedLabelError:
        return False
    if kind != "Street Address":
        return False
    number = tagged.get("AddressNumber", "")
    street = " ".join(tagged[k] for k in (
        "StreetNamePreDirectional", "StreetNamePreType", "StreetName", "StreetNamePostType",
        "StreetNamePostDirectional") if k in tagged)
    if not street:
        return False
    parts.update({"house_number": number, "street": street.strip(" ,"),
                  "unit": tagged.get("OccupancyIdentifier", "").lstrip("#"),
                  "locality": _display(tagged.get("PlaceName", "").strip(" ,")),
                  "region": tagged.get("StateName", "").upper().strip(" ,.")})
    if "ZipCode" in tagged:
        normal = normalize_postcode(tagged["ZipCode"], "US")
        if normal:
            parts["postcode"] = normal[0]
    return True


_NUMBER_LAST_COUNTRIES: Final[frozenset[str]] = frozenset(
    {"DE", "AT", "CH", "NL", "BE", "DK", "NO", "SE", "PL", "IT", "ES", "CZ", "FI"}
)
_REGION_COUNTRY: Final[dict[str, str]] = {
    **dict.fromkeys("AB BC MB NB NL NS NT NU ON PE QC SK YT".split(), "CA"),  # noqa: SIM905
    **dict.fromkeys("NSW VIC QLD TAS ACT".split(), "AU"),  # noqa: SIM905
}
_HOUSE_NUMBER_ONLY = re.compile(r"^\d+\s?[A-Za-z]?$")
_STREET_TYPES: Final[frozenset[str]] = frozenset(
    {"st", "ave", "rd", "blvd", "dr", "ln", "ct", "pl", "sq", "ter", "cres", "cl", "hwy", "pkwy",
     "cir", "gdns"}
)
_LETTER = re.compile(r"[^\W\d_]")
_US_ONE_LINE = re.compile(r"^\d+\s.*\b[A-Za-z]{2}\.?\s+\d{5}(?:-\d{4})?$")


@lru_cache(maxsize=65536)
def standardize_address(raw: str | None, country: str | None = None) -> Standardized:
    """A street line or full address: parts, tidy display, and a normalized match form.

    Example:
        >>> standardize_address("Flat 3, 10 Downing Street, London SW1A 2AA", "GB").match
        '10 downing st unit 3, london, sw1a2aa, gb'
    """
    found = _parse(raw, country)
    if isinstance(found, Standardized):
        return found
    parts, cc = found
    return _result(raw or "", parts, cc)  # parsed: raw is a str


def street_parts(raw: str, country: str | None = None) -> tuple[str, str]:
    """The street (as displayed) and house number of `standardize_address(raw, country)`'s
    parts ("" when absent), without building the rest of the result: for a value asked for
    once, such as each distinct street line of a file being deduplicated.

    Example:
        >>> street_parts("10 DOWNING STREET", "GB")
        ('Downing Street', '10')
    """
    found = _parse(raw, country)
    if isinstance(found, Standardized):
        return "", ""  # no parts
    parts, _ = found
    return _display(parts.get("street", "")), parts.get("house_number", "")


def _parse(raw: str | None, country: str | None) -> Standardized | tuple[dict[str, str],
                                                                          str | None]:
    """The answer for a value that is no address, else (parts as parsed, country)."""
    if raw is None:
        return make("address", None, None, None)
    text = clean_text(raw.replace("\n", ", ").replace(";", ","))
    if is_placeholder_text(text) or not _LETTER.search(text):
        flag = "placeholder" if is_placeholder_text(text) else "invalid"
        return make("address", raw, None, None, flags=(flag,))
    parts: dict[str, str] = {}
    segments = [s.strip() for s in text.split(",") if s.strip()]
    cc = (country or "").upper() or None
    last = segments[-1] if segments else ""
    is_region = cc in ("US", "CA", "AU") and last.upper() in _STATES
    if len(segments) > 1 and not is_region and (code := country_code(last)):
        parts["country"] = code
        segments.pop()
    cc = parts.get("country") or cc
    one_line_us = cc in (None, "US") and len(segments) == 1 and _US_ONE_LINE.match(segments[0])
    if one_line_us and _parse_usaddress(segments[0], parts):
        parts.setdefault("country", "US")
        return parts, cc or "US"
    start = 0
    while start < len(segments) - 1 and (unit := _UNIT_ONLY.match(segments[start])):
        parts["unit"] = unit.group(1)
        start += 1
    if start < len(segments) - 1 and _HOUSE_NUMBER_ONLY.match(segments[start]):
        segments[start : start + 2] = [f"{segments[start]} {segments[start + 1]}"]
    if len(segments) == start + 1:
        _split_one_line(segments, start, cc)
    _parse_street_line(segments[start], parts)
    if len(segments) > start + 1:
        _take_postcode(segments, start, cc, parts)
    _fill_places(segments, start + 1, cc, parts)
    return parts, parts.get("country") or cc


def _split_one_line(segments: list[str], start: int, country: str | None) -> None:
    """'Hauptstraße 5 10115 Berlin' -> street line, postcode and locality segments."""
    line = segments[start]
    needs, patterns = _inline_postcode_patterns(country)
    if needs is not None and needs.search(line) is None:
        return  # no pattern can match: the loop below would find nothing
    for pattern in patterns:
        found = _last_match(pattern, line)
        if found is None or found.start() == 0:
            continue
        if normalize_postcode(found.group(0), country) is None:
            continue
        before, after = line[: found.start()].strip(" ,"), line[found.end():].strip(" ,")
        words = before.split(" ")
        types = [i for i, w in enumerate(words) if _TOKENS.get(fold_words(w)) in _STREET_TYPES]
        locality = ""
        if not after and types and types[-1] < len(words) - 1:
            before = " ".join(words[: types[-1] + 1])
            locality = " ".join(words[types[-1] + 1 :])
        elif not after and (number := _TRAILING_NUMBER.search(before)) and \
                not before[:1].isdigit():
            before = before[: number.end()]
        segments[start:] = [before, *(p for p in (locality, found.group(0), after) if p)]
        return


_TRAILING_NUMBER = re.compile(r"\b\d+\s?[A-Za-z]?$")
_WHITESPACE = re.compile(r"\s+")
_NOT_LOWER_ALNUM = re.compile(r"[^a-z0-9]")
_SPACE_OR_DASH = re.compile(r"[\s-]")


def _result(raw: str, parts: dict[str, str], country: str | None) -> Standardized:
    flags: list[str] = []
    number = parts.get("house_number", "")
    street = parts.get("street", "")
    unit = parts.get("unit", "")
    number_key = number.lower()
    if not number_key.isalnum():  # else there is no whitespace to drop
        number_key = _WHITESPACE.sub("", number_key)
    line_key = " ".join([p for p in (
        number_key, street_key(street, country),
        f"unit {_NOT_LOWER_ALNUM.sub('', unit.lower())}" if unit else "") if p])
    if not street:
        flags.append("invalid")
    shown_street = _display(street)
    parts["street"] = shown_street
    number_last = parts.pop("_number_last", "")
    if country in _NUMBER_LAST_COUNTRIES or (country is None and number_last):
        line = f"{shown_street} {number}".strip()
    else:
        line = f"{number} {shown_street}".strip()
    if unit and country == "GB":
        line = f"Flat {unit}, {line}"
    elif unit:
        line += f" {_unit_word(country)} {unit}"
    pc = parts.get("postcode", "")
    locality = parts.get("locality", "")
    region = parts.get("region", "")
    cc = parts.get("country", "")
    if country in ("GB", "US", "CA", "AU") or (country is None and not pc[:1].isdigit()):
        place = ", ".join([p for p in (locality, region) if p])
        place = f"{place} {pc}".strip()
    else:
        place = f"{pc} {locality}".strip()
    value = ", ".join([p for p in (line, place, cc) if p])
    pc_key = pc.lower()
    if not pc_key.isalnum():  # else there is no space or dash to drop
        pc_key = _SPACE_OR_DASH.sub("", pc_key)
    if country == "US":
        pc_key = pc_key[:5]
    match_pieces = (line_key, fold_words(locality) if locality else "", region.lower(), pc_key,
                    cc.lower())
    match = ", ".join([p for p in match_pieces if p]) if street else None
    return make("address", raw, value, match, parts, flags)


def _unit_word(country: str | None) -> str:
    return {"DE": "Whg.", "FR": "Appt", "AT": "Whg.", "CH": "Whg."}.get(
        country or "", "Apt")
