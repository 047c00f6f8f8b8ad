"""Identifier values in their matching form, and whether each may link records."""

from __future__ import annotations

from functools import lru_cache

from ucp.config import UCPConfig
from ucp.domain.standardize import Context, standardize

#: identifier types standardized by a kind-specific standardizer; others are trimmed text
_KIND = {"email": "email", "phone": "phone"}


class IdentifierStandardizer:
    """Turns raw identifier values into `(type, match value, linkable)` under the config's rules."""

    def __init__(self, config: UCPConfig) -> None:
        self.config = config
        self._blocked: dict[str, frozenset[str]] = {}

    def blocked_values(self, id_type: str) -> frozenset[str]:
        if id_type not in self._blocked:
            rule = self.config.identifiers.get(id_type)
            values: set[str] = set()
            for raw in rule.blocked if rule else []:
                values.add(raw.strip().lower())
                match, _ = _match(id_type, raw, None)
                if match:
                    values.add(match)
            self._blocked[id_type] = frozenset(values)
        return self._blocked[id_type]

    def identifier(
        self, id_type: str, raw: object, country: str | None
    ) -> tuple[str, str, bool] | None:
        """`(type, value, linkable)`, or None when nothing usable is left of the raw value."""
        match, usable = _match(id_type, str(raw), country)
        if match is None:
            return None
        blocked = self.blocked_values(id_type)
        linkable = usable and match not in blocked and str(raw).strip().lower() not in blocked
        return id_type, match, linkable


@lru_cache(maxsize=200_000)
def _match(id_type: str, raw: str, country: str | None) -> tuple[str | None, bool]:
    kind = _KIND.get(id_type)
    if kind is None:
        value = " ".join(raw.split())
        return (value or None), bool(value)
    result = standardize(kind, raw, Context(country=country))
    if result.match is None:
        # keep a findable form of an unusable value, but never link on it
        fallback = raw.strip().lower()
        return (fallback or None), False
    return result.match, result.valid
