"""Phone standardization: E.164 via libphonenumber with the source's default country."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Final

from ucp.domain.standardize.result import Standardized, construct, make
from ucp.domain.standardize.simple import clean_text, is_placeholder_text

_DIGITS = re.compile(r"\d")
_NOT_DIGIT = re.compile(r"\D")
#: a number written with these characters only holds no extension: every extension marker
#: of `_EXTENSION` has a letter or '#'
_PLAIN_NUMBER_CHARS: Final[str] = "0123456789+()-./ "
#: what `_PUNCTUATION` matches among those characters
_PLAIN_PUNCTUATION: Final[str] = " .()/-"


def _drop(text: str, chars: str) -> str:
    """`text` without any of `chars` (a few str.replace calls beat a regex substitution)."""
    for char in chars:
        if char in text:
            text = text.replace(char, "")
    return text
_PUNCTUATION = re.compile(r"[\s.()/\-\u2010-\u2015]")
_EXTENSION = re.compile(
    r"(?:\s*(?:ext\.?|extension|x|#|poste|durchwahl|dw\.?)\s*(\d{1,7})\s*)$", re.I
)
_PLACEHOLDER_NUMBERS: Final[frozenset[str]] = frozenset({
    "123456789", "1234567890", "0123456789", "12345678", "1234567", "987654321", "9876543210",
    "0987654321", "01234567890", "5555555555", "15555555555",
})
_TYPE_NAMES: Final[dict[int, str]] = {
    0: "fixed_line", 1: "mobile", 2: "fixed_line_or_mobile", 3: "toll_free", 4: "premium_rate",
    5: "shared_cost", 6: "voip", 7: "personal_number", 8: "pager", 9: "uan", 10: "voicemail",
}
#: international call prefixes tried when a number has no + and the source has no country
_IDD: Final[tuple[str, ...]] = ("00", "011")


def _is_placeholder(digits: str) -> bool:
    national = digits.lstrip("0")
    return (
        len(set(digits)) <= 1
        or digits in _PLACEHOLDER_NUMBERS
        or national in _PLACEHOLDER_NUMBERS
        or (len(national) >= 6 and len(set(national)) == 1)
    )


def _type_and_region(phonenumbers: Any, number: Any, default: str | None) -> tuple[int, str]:
    """The number's type and region; UNKNOWN type means invalid.

    Most numbers belong to the source's own country: checking them against that country's
    metadata first skips libphonenumber's search over every region sharing the calling code.
    """
    util = phonenumbers.phonenumberutil
    helper = getattr(util, "_number_type_helper", None)
    if helper is None:  # pragma: no cover - another libphonenumber port
        region = phonenumbers.region_code_for_number(number)
        kind = phonenumbers.number_type(number)
        return int(kind), str(region or
                              phonenumbers.region_code_for_country_code(number.country_code))
    nsn = phonenumbers.national_significant_number(number)
    unknown = phonenumbers.PhoneNumberType.UNKNOWN
    if default and phonenumbers.country_code_for_region(default) == number.country_code:
        metadata = phonenumbers.PhoneMetadata.metadata_for_region(default)
        if metadata is not None:
            kind = helper(nsn, metadata)
            if kind != unknown:
                return int(kind), default
    # `region_code_for_number` takes the first region of the calling code whose metadata
    # accepts the number, and `number_type` searches again: the calling code's first region
    # (US for +1, GB for +44) answers most numbers, so try it the way the search would
    regions = util.COUNTRY_CODE_TO_REGION_CODE.get(number.country_code) or ()
    if regions:
        metadata = phonenumbers.PhoneMetadata.metadata_for_region(regions[0].upper(), None)
        if metadata is not None and (len(regions) == 1 or metadata.leading_digits is None):
            kind = helper(nsn, metadata)
            if kind != unknown:
                return int(kind), regions[0]
    region = phonenumbers.region_code_for_number(number)
    metadata = phonenumbers.PhoneMetadata.metadata_for_region_or_calling_code(
        number.country_code, region)
    kind = helper(nsn, metadata) if metadata is not None else unknown
    return int(kind), str(region or phonenumbers.region_code_for_country_code(number.country_code))


@lru_cache(maxsize=65536)
def standardize_phone(raw: str | None, country: str | None = None) -> Standardized:
    """Parse with the default country; value and match are E.164, the extension kept apart.

    Example:
        >>> standardize_phone("020 7946 0958", "GB").match
        '+442079460958'
    """
    prepared = _prepare(raw, country)
    if isinstance(prepared, Standardized):
        return prepared
    core = _parse(*prepared)
    if core.input == raw:
        return core  # frozen, and equal in every field to a copy
    # the cached parse serves every spelling of the number: only the input differs
    # (`dataclasses.replace` would do the same at several times the cost)
    return construct(core.kind, raw, core.value, core.match, core.parts, core.flags)


def phone_match(raw: str, country: str | None = None) -> str | None:
    """`standardize_phone(raw, country).match`, without the number's type when the match does
    not need it (a possible number's match is its E.164 whether its type is known or not):
    type detection is a third of a phone's standardizing. For a value asked for once.

    Example:
        >>> phone_match("020 7946 0958", "GB")
        '+442079460958'
    """
    prepared = _prepare(raw, country)
    if isinstance(prepared, Standardized):
        return prepared.match
    found = _number(*prepared)
    if isinstance(found, Standardized):
        return found.match
    phonenumbers, number, e164, _ = found
    bad_zero = number.italian_leading_zero and number.country_code != 39
    if not bad_zero and phonenumbers.is_possible_number(number):
        return e164
    kind, _ = _type_and_region(phonenumbers, number, prepared[3])
    return e164 if kind != phonenumbers.PhoneNumberType.UNKNOWN else None


def _prepare(raw: str | None,
             country: str | None) -> Standardized | tuple[str, str, str, str | None]:
    """The answer for a value that is no number, else (text, digits, extension, region): the
    key of the parse (`_parse`)."""
    if raw is None:
        return make("phone", None, None, None)
    text = clean_text(raw)
    if is_placeholder_text(text):
        return make("phone", raw, None, None, flags=("placeholder",))
    extension = ""
    plain = not text.strip(_PLAIN_NUMBER_CHARS)  # digits and punctuation only: the usual
    # the search is tried at every position: skip it when no marker can be there
    found = None if plain else _EXTENSION.search(text)
    if found and len(_DIGITS.findall(text[: found.start()])) >= 6:
        extension, text = found.group(1), text[: found.start()]
    # the same as joining the \d matches (on plain text: dropping its non-digits is quicker)
    digits = _drop(text, _PLAIN_PUNCTUATION + "+") if plain else _NOT_DIGIT.sub("", text)
    if len(digits) < 3 or len(digits) > 17:
        return make("phone", raw, None, None, flags=("invalid",))
    if _is_placeholder(digits):
        return make("phone", raw, None, None, flags=("placeholder",))
    region = (country or "").upper() or None
    if "(0)" not in text.replace(" ", ""):
        # punctuation means nothing to libphonenumber except '+' and '(0)': one cache entry
        # serves "(201) 555-0123", "201-555-0123" and "201.555.0123"
        text = _drop(text, _PLAIN_PUNCTUATION) if plain else _PUNCTUATION.sub("", text)
    return text, digits, extension, region


@lru_cache(maxsize=1)
def _library() -> Any:
    """phonenumbers, imported on first use, with its pattern cache on.

    Without it every metadata pattern match goes through `re.compile`'s cache lookup; kept
    compiled (a fixed set: the patterns come from the metadata) type detection takes a third
    less time. Matching is the same, so results are unchanged.
    """
    import phonenumbers

    phonenumbers.enable_pattern_cache()
    return phonenumbers


def _number(text: str, digits: str, extension: str,
            region: str | None) -> Standardized | tuple[Any, Any, str, str]:
    """The answer for text that parses to no usable number, else (phonenumbers, the parsed
    number, its E.164, the extension)."""
    phonenumbers = _library()
    raw = text
    plus = text.lstrip().startswith("+")
    if not plus and region is None:
        for idd in _IDD:
            if digits.startswith(idd) and len(digits) > len(idd) + 6:
                text, plus = "+" + digits[len(idd):], True
                break
        else:
            return make("phone", raw, digits, None, {"extension": extension}, ("missing_country",))
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return make("phone", raw, None, None, flags=("invalid",))
    if number.extension and not extension:
        extension = number.extension
    e164 = f"+{number.country_code}{number.national_number}"
    if number.italian_leading_zero:
        e164 = f"+{number.country_code}{'0' * (number.number_of_leading_zeros or 1)}"
        e164 += str(number.national_number)
    if _is_placeholder(str(number.national_number)):
        return make("phone", raw, None, None, flags=("placeholder",))
    return phonenumbers, number, e164, extension


@lru_cache(maxsize=65536)
def _parse(text: str, digits: str, extension: str, region: str | None) -> Standardized:
    found = _number(text, digits, extension, region)
    if isinstance(found, Standardized):
        return found
    phonenumbers, number, e164, extension = found
    raw = text
    national = str(number.national_number)
    kind, number_region = _type_and_region(phonenumbers, number, region)
    parts = {
        "country_code": str(number.country_code),
        "national_number": national,
        "extension": extension,
        "region": number_region,
    }
    if kind != phonenumbers.PhoneNumberType.UNKNOWN:
        parts["type"] = _TYPE_NAMES.get(kind, "unknown")
        return make("phone", raw, e164, e164, parts)
    # a leading zero kept in the national number only means something for Italy
    bad_zero = number.italian_leading_zero and number.country_code != 39
    if not bad_zero and phonenumbers.is_possible_number(number):
        return make("phone", raw, e164, e164, parts, ("possible_only",))
    return make("phone", raw, None, None, parts, ("invalid",))
