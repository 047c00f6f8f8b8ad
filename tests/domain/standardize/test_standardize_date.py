"""Dates and timestamps: formats, the day/month hint, ambiguity, pivots and flags."""

from __future__ import annotations

import datetime

import pytest

from ucp.domain.standardize import Context, standardize

TODAY = datetime.date(2025, 6, 1)


def _date(
    raw: str, order: str = "YMD", country: str | None = None
) -> tuple[str | None, tuple[str, ...]]:
    result = standardize("date", raw, Context(country=country, date_order=order, today=TODAY))  # type: ignore[arg-type]
    return result.value, result.flags


@pytest.mark.parametrize(
    "raw",
    [
        "1985-03-07",
        "1985-3-7",
        "1985/03/07",
        "19850307",
        "7 March 1985",
        "March 7, 1985",
        "7. März 1985",
        "7 mars 1985",
        "07-Mar-1985",
        "1985-03-07T23:59:00+05:00",
    ],
)
def test_unambiguous_formats(raw: str) -> None:
    """Every unambiguous spelling of 7 March 1985 gives the same ISO date, unflagged."""
    assert _date(raw) == ("1985-03-07", ())


def test_ambiguous_day_month_follows_the_hint_and_is_flagged() -> None:
    """07/03/1985 is 7 March for DMY sources, July 3 for MDY ones, flagged both times."""
    assert _date("07/03/1985", "DMY") == ("1985-03-07", ("ambiguous",))
    assert _date("07/03/1985", "MDY") == ("1985-07-03", ("ambiguous",))


def test_without_hint_the_country_decides() -> None:
    """With no day/month hint, US sources read month-first and others day-first."""
    assert _date("07/03/1985", "YMD", "US")[0] == "1985-07-03"
    assert _date("07/03/1985", "YMD", "GB")[0] == "1985-03-07"


def test_only_one_valid_reading_is_not_ambiguous() -> None:
    """25/12/1990 can only be day-first, whatever the hint."""
    assert _date("25/12/1990", "MDY") == ("1990-12-25", ())


def test_two_digit_years_are_never_in_the_future() -> None:
    """A two-digit birth year pivots so the date is not after today."""
    assert _date("07.03.85", "DMY")[0] == "1985-03-07"
    assert _date("07.03.24", "DMY")[0] == "2024-03-07"
    assert _date("07.03.26", "DMY")[0] == "1926-03-07"


@pytest.mark.parametrize(
    ("raw", "flag"),
    [
        ("1900-01-01", "placeholder"),
        ("1970-01-01", "placeholder"),
        ("0000-00-00", "placeholder"),
        ("1111-11-11", "placeholder"),
        ("9999-12-31", "placeholder"),
        ("2030-01-01", "future"),
        ("1985-02-30", "invalid"),
        ("yesterday", "invalid"),
    ],
)
def test_quality_flags(raw: str, flag: str) -> None:
    """Placeholder, future and impossible dates are flagged."""
    assert flag in _date(raw)[1]


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("2021-03-07T10:15:30Z", "2021-03-07T10:15:30Z"),
        ("2021-03-07 11:15:30+01:00", "2021-03-07T10:15:30Z"),
        ("1615112130", "2021-03-07T10:15:30Z"),
        ("1615112130000", "2021-03-07T10:15:30Z"),
        ("2021-03-07", "2021-03-07T00:00:00Z"),
    ],
)
def test_timestamps_are_utc_iso(raw: str, value: str) -> None:
    """Timestamps with offsets or as epoch seconds/milliseconds become UTC ISO 8601."""
    assert value == standardize("timestamp", raw, Context(today=TODAY)).value
