"""Golden cases: real-world-shaped values from en_US, en_GB, de_DE and fr_FR sources."""

from __future__ import annotations

import csv
import datetime
from pathlib import Path

import pytest

from ucp.domain.standardize import Context, standardize

GOLDEN = Path(__file__).parent / "golden" / "cases.csv"
TODAY = datetime.date(2025, 6, 1)


def _load() -> list[dict[str, str]]:
    with GOLDEN.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


CASES = _load()


def test_golden_file_covers_four_locales_with_at_least_300_cases() -> None:
    """The golden set is big enough and spans the four reference locales."""
    assert len(CASES) >= 300
    assert {row["locale"] for row in CASES} == {"en_US", "en_GB", "de_DE", "fr_FR"}


@pytest.mark.parametrize(
    "row", CASES, ids=[f"{r['locale']}-{r['kind']}-{r['input']!r}" for r in CASES]
)
def test_golden_case(row: dict[str, str]) -> None:
    """Value, match and flags equal the expectation written in golden/cases.csv."""
    ctx = Context(country=row["country"] or None, date_order=row["date_order"], today=TODAY)  # type: ignore[arg-type]
    result = standardize(row["kind"], row["input"], ctx)
    expected = (
        row["value"] or None,
        row["match"] or None,
        tuple(f for f in row["flags"].split("|") if f),
    )
    assert expected == (result.value, result.match, result.flags)
