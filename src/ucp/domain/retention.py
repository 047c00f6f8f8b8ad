"""Retention periods (pure): `90d`, `12w`, `6m`, `2y`, `36h` → a timedelta, and what expired.

A month is 30 days and a year 365 days: retention is a policy bound, not a calendar date.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

_UNITS: Final[dict[str, timedelta]] = {
    "h": timedelta(hours=1),
    "d": timedelta(days=1),
    "w": timedelta(weeks=1),
    "m": timedelta(days=30),
    "y": timedelta(days=365),
}
_PERIOD = re.compile(r"^\s*(\d+)\s*([hdwmy])\s*$")


class PeriodError(ValueError):
    """A retention period that cannot be read."""


def parse_period(text: str) -> timedelta:
    """`"90d"` → `timedelta(days=90)`; raises PeriodError naming the accepted forms."""
    match = _PERIOD.match(str(text).lower())
    if not match or int(match.group(1)) == 0:
        raise PeriodError(
            f"expected a period such as '36h', '90d', '12w', '6m' or '2y', got {text!r}"
        )
    return int(match.group(1)) * _UNITS[match.group(2)]


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """Periods per source (its records and events) and per event name (overrides the source)."""

    sources: dict[str, timedelta]
    events: dict[str, timedelta]

    @property
    def empty(self) -> bool:
        return not self.sources and not self.events

    def record_cutoff(self, source: str, now: datetime) -> datetime | None:
        """Records of `source` last seen before this time have expired (None: kept forever)."""
        period = self.sources.get(source)
        return now - period if period else None

    def event_cutoff(self, source: str, name: str, now: datetime) -> datetime | None:
        """Events that occurred before this time have expired (None: kept forever)."""
        period = self.events.get(name) or self.sources.get(source)
        return now - period if period else None
