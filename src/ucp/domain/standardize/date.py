"""Date and timestamp standardization: many formats, a day/month order hint, honest flags."""

from __future__ import annotations

import datetime
import re
from functools import lru_cache
from typing import Final

from ucp.domain.standardize.result import DateOrder, Standardized, make
from ucp.domain.standardize.simple import clean_text, fold, is_placeholder_text

_MONTHS: Final[dict[str, int]] = {
    name: number
    for number, names in enumerate([
        "january jan januar janner janv janvier",
        "february feb februar fevrier fev fevr",
        "march mar marz maerz mrz mars",
        "april apr avril avr",
        "may mai",
        "june jun juni juin",
        "july jul juli juillet juil",
        "august aug aout",
        "september sep sept septembre",
        "october oct oktober okt octobre",
        "november nov novembre",
        "december dec dezember dez decembre",
    ], start=1)
    for name in names.split()
}
_NOISE: Final[frozenset[str]] = frozenset(
    "monday tuesday wednesday thursday friday saturday sunday mon tue tues wed thu thur thurs fri "  # noqa: SIM905
    "sat sun montag dienstag mittwoch donnerstag freitag samstag sonntag mo di mi do fr sa so "
    "lundi mardi mercredi jeudi vendredi samedi dimanche lun mer jeu ven sam dim "
    "st nd rd th er eme the of le den der am on".split()
)
_PLACEHOLDER_DATES: Final[frozenset[str]] = frozenset({
    "1900-01-01", "1970-01-01", "1111-11-11", "9999-12-31", "9999-01-01", "1899-12-30",
    "1899-12-31", "0001-01-01", "1800-01-01", "2222-02-22", "1901-01-01",
})
#: countries whose sources write dates month-first when nothing else is known
_MONTH_FIRST: Final[frozenset[str]] = frozenset({"US", "PH", "FM", "MH", "PW", "BZ"})
_ISO = re.compile(
    r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?)?"
    r"\s*(Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?",
    re.I,
)
_TIME = re.compile(
    r"[T\s,]+(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?\s*([ap]\.?m\.?)?\s*(Z|UTC|GMT|[+-]\d{2}:?\d{2})?$",
    re.I,
)
_NUMERIC = re.compile(r"(\d{1,2})([./-])(\d{1,2})\2(\d{2}|\d{4})")
_NON_DIGIT = re.compile(r"\D")
_EPOCH = re.compile(r"-?\d{9,13}(?:\.\d+)?")
_TOKENS = re.compile(r"\d+|[a-z]+")

Parsed = tuple[datetime.date, datetime.time | None, datetime.timezone | None]


def _year(text: str, today: datetime.date) -> int:
    if len(text) == 2:
        # two-digit years pivot so that the date is never in the future
        year = 2000 + int(text)
        return year if year <= today.year else year - 100
    return int(text) if len(text) == 4 else -1


def _build(y: int, m: int, d: int) -> datetime.date | None:
    try:
        return datetime.date(y, m, d) if y >= 1 else None
    except ValueError:
        return None


def _zone(text: str | None) -> datetime.timezone | None:
    if not text:
        return None
    if text.upper() in ("Z", "UTC", "GMT"):
        return datetime.UTC
    digits = text[1:].replace(":", "")
    minutes = int(digits[:2]) * 60 + (int(digits[2:4]) if len(digits) >= 4 else 0)
    if minutes >= 24 * 60:
        raise ValueError("offset out of range")
    sign = -1 if text[0] == "-" else 1
    return datetime.timezone(datetime.timedelta(minutes=sign * minutes))


#: order -> the positions of year, month and day among three numbers
_POSITIONS: Final[dict[str, tuple[int, int, int]]] = {
    o: (o.index("Y"), o.index("M"), o.index("D")) for o in ("YMD", "DMY", "MDY")}


def _numeric_readings(
    groups: list[str], order: DateOrder, country: str | None, today: datetime.date
) -> tuple[datetime.date | None, bool]:
    """All plausible readings of three numbers; the hint picks one, >1 distinct = ambiguous."""
    a, b, c = groups
    if len(a) == 4:
        orders: list[str] = ["YMD"]
    elif len(c) == 4:
        orders = ["DMY", "MDY"]
    elif max(len(a), len(b)) <= 2 and len(c) == 2:
        orders = ["YMD", "DMY", "MDY"]
    else:
        return None, False
    fallback = "MDY" if (country or "").upper() in _MONTH_FIRST else "DMY"
    preferred = [order, fallback, *orders]
    readings: dict[str, datetime.date] = {}
    groups3 = (a, b, c)
    for o in orders:
        y, m, d = _POSITIONS[o]  # where the order puts year, month and day
        found = _build(_year(groups3[y], today), int(groups3[m]), int(groups3[d]))
        if found is not None:
            readings[o] = found
    if not readings:
        return None, False
    chosen = next(readings[o] for o in preferred if o in readings)
    return chosen, len(set(readings.values())) > 1


def _parse(text: str, order: DateOrder, country: str | None, today: datetime.date,
           ) -> tuple[Parsed | None, bool]:
    """(date, time, zone) and the ambiguity flag; None when nothing sensible was found."""
    numeric = _NUMERIC.fullmatch(text)
    if numeric:
        groups = [numeric.group(1), numeric.group(3), numeric.group(4)]
        found, ambiguous = _numeric_readings(groups, order, country, today)
        return ((found, None, None), ambiguous) if found else (None, False)
    iso = _ISO.fullmatch(text)
    if iso:
        y, m, d, hh, mm, ss, zone = iso.groups()
        day = _build(int(y), int(m), int(d))
        if day is None:
            return None, False
        clock = datetime.time(int(hh), int(mm), int(ss or 0)) if hh is not None else None
        return (day, clock, _zone(zone)), False
    clock, zone = None, None
    timed = _TIME.search(text)
    if timed:
        hh, mm, ss, ampm, tz = timed.groups()
        hour = int(hh)
        if ampm:
            hour = hour % 12 + (12 if ampm.lower().startswith("p") else 0)
        clock, zone = datetime.time(hour, int(mm), int(ss or 0)), _zone(tz)
        text = text[: timed.start()]
    tokens = [t for t in _TOKENS.findall(fold(text)) if t not in _NOISE]
    months = [t for t in tokens if not t.isdigit()]
    numbers = [t for t in tokens if t.isdigit()]
    if months:
        if len(months) != 1 or months[0] not in _MONTHS or len(numbers) != 2:
            return None, False
        month = _MONTHS[months[0]]
        first, second = numbers
        day_text, year_text = (second, first) if len(first) == 4 or int(first) > 31 else numbers
        day = _build(_year(year_text, today), month, int(day_text))
        return ((day, clock, zone), False) if day else (None, False)
    if len(numbers) == 1 and len(numbers[0]) in (6, 8):
        n = numbers[0]
        if len(n) == 8 and (day := _build(int(n[:4]), int(n[4:6]), int(n[6:]))):
            return (day, clock, zone), False
        numbers = [n[:2], n[2:4], n[4:]] if len(n) == 6 else [n[:2], n[2:4], n[4:]]
    if len(numbers) != 3:
        return None, False
    day, ambiguous = _numeric_readings(numbers, order, country, today)
    return ((day, clock, zone), ambiguous) if day else (None, False)


def _epoch(text: str) -> Parsed | None:
    seconds = float(text)
    if len(text.split(".")[0].lstrip("-")) >= 12:
        seconds /= 1000
    moment = datetime.datetime.fromtimestamp(seconds, tz=datetime.UTC)
    return moment.date(), moment.time().replace(microsecond=0), datetime.UTC


@lru_cache(maxsize=65536)
def standardize_date(
    raw: str | None,
    kind: str = "date",
    order: DateOrder = "YMD",
    country: str | None = None,
    today: datetime.date | None = None,
) -> Standardized:
    """A birth date (kind `date`) as YYYY-MM-DD or a `timestamp` as UTC ISO 8601.

    Example:
        >>> standardize_date("07/03/1985", "date", "DMY").value
        '1985-03-07'
    """
    if raw is None:
        return make(kind, None, None, None)
    today = today or datetime.date.today()
    text = clean_text(raw).strip(" ,.")
    digits = _NON_DIGIT.sub("", text)
    if is_placeholder_text(text) or (digits and set(digits) == {"0"}):
        return make(kind, raw, None, None, flags=("placeholder",))
    try:
        if kind == "timestamp" and _EPOCH.fullmatch(text):
            parsed, ambiguous = _epoch(text), False
        else:
            parsed, ambiguous = _parse(text, order, country, today)
    except (ValueError, OverflowError, OSError):
        parsed, ambiguous = None, False
    if parsed is None:
        return make(kind, raw, None, None, flags=("invalid",))
    day, clock, zone = parsed
    flags = ["ambiguous"] if ambiguous else []
    if kind == "timestamp":
        try:
            moment = datetime.datetime.combine(day, clock or datetime.time(0))
            moment = moment.replace(tzinfo=zone or datetime.UTC)
            moment = moment.astimezone(datetime.UTC)
        except (ValueError, OverflowError):
            return make(kind, raw, None, None, flags=("invalid",))
        day = moment.date()
        value = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
        parts = {"year": f"{day.year:04d}", "month": f"{day.month:02d}", "day": f"{day.day:02d}",
                 "time": moment.strftime("%H:%M:%S")}
        if value == "1970-01-01T00:00:00Z":
            flags.append("placeholder")
    else:
        value = day.isoformat()
        parts = {"year": f"{day.year:04d}", "month": f"{day.month:02d}", "day": f"{day.day:02d}"}
    if (value if kind != "timestamp" else day.isoformat()) in _PLACEHOLDER_DATES:
        flags.append("placeholder")
    elif day > today:
        flags.append("future")
    if day.year < 1000:
        flags.append("invalid")
    return make(kind, raw, value, value, parts, flags)
