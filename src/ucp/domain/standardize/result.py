"""The value types every standardizer shares: the source `Context` and the `Standardized` result."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any, Literal

DateOrder = Literal["DMY", "MDY", "YMD"]

#: flags that make a value unusable (see `Standardized.valid`)
UNUSABLE_FLAGS = frozenset({"invalid", "placeholder"})

_EMPTY: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Context:
    """What a standardizer knows about the source a raw value came from.

    Example:
        >>> Context(country="GB", date_order="DMY")
        Context(country='GB', date_order='DMY', today=None)
    """

    country: str | None = None  # ISO alpha-2 default country of the source
    date_order: DateOrder = "YMD"
    today: datetime.date | None = None  # None = date.today(); injectable for tests

    def resolved_today(self) -> datetime.date:
        """The reference day for `future` checks and two-digit year pivots."""
        return self.today if self.today is not None else datetime.date.today()


@dataclass(frozen=True, slots=True)
class Standardized:
    """One standardized value: display form, matching form, parts and quality flags.

    Example:
        >>> s = Standardized("text", " a ", "a", "a", {}, ())
        >>> s.valid
        True
    """

    kind: str
    input: str | None
    value: str | None  # display form; None when absent/unusable
    match: str | None  # matching form; None when absent/invalid for matching
    parts: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    flags: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: kind, input, value, match, parts, flags."""
        return {
            "kind": self.kind,
            "input": self.input,
            "value": self.value,
            "match": self.match,
            "parts": dict(self.parts),
            "flags": list(self.flags),
        }

    @property
    def valid(self) -> bool:
        """True when a value is present and it carries no invalid/placeholder flag."""
        return self.value is not None and not UNUSABLE_FLAGS.intersection(self.flags)


_new_object = object.__new__
#: the slot setters of `Standardized`, in field order
_SETTERS: tuple[Callable[[Standardized, Any], None], ...] = tuple(
    Standardized.__dict__[f.name].__set__ for f in fields(Standardized))
_SET_KIND, _SET_INPUT, _SET_VALUE, _SET_MATCH, _SET_PARTS, _SET_FLAGS = _SETTERS


def construct(
    kind: str,
    raw: str | None,
    value: str | None,
    match: str | None,
    parts: Mapping[str, str],
    flags: tuple[str, ...],
) -> Standardized:
    """`Standardized(kind, raw, value, match, parts, flags)`, built three times quicker.

    A frozen dataclass's `__init__` sets each field through `object.__setattr__` (to get past
    its own `__setattr__` guard); setting the slots directly does the same at a fraction of
    the cost, and every standardized value is built this way.
    """
    obj = _new_object(Standardized)
    _SET_KIND(obj, kind)
    _SET_INPUT(obj, raw)
    _SET_VALUE(obj, value)
    _SET_MATCH(obj, match)
    _SET_PARTS(obj, parts)
    _SET_FLAGS(obj, flags)
    return obj


def make(
    kind: str,
    raw: str | None,
    value: str | None,
    match: str | None,
    parts: Mapping[str, str] | None = None,
    flags: Iterable[str] = (),
) -> Standardized:
    """Build a `Standardized` with read-only parts, empty parts dropped and flags sorted."""
    clean = {k: v for k, v in parts.items() if v} if parts else None
    return construct(
        kind,
        raw,
        value or None,
        match or None,
        MappingProxyType(clean) if clean else _EMPTY,
        tuple(sorted(set(flags))) if flags else (),
    )
