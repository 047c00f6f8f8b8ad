"""The nouns of design.md §2 as small frozen values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True, order=True)
class RecordKey:
    """A record's identity: one source's view of one person."""

    source: str
    source_key: str

    def __str__(self) -> str:
        return f"{self.source}:{self.source_key}"


@dataclass(frozen=True, slots=True, order=True)
class Identifier:
    """`(type, value)` after standardization; `value` is the matching form."""

    type: str
    value: str

    def __str__(self) -> str:
        return f"{self.type}:{self.value}"


@dataclass(frozen=True, slots=True)
class MappedRow:
    """A source row after mapping: canonical attributes and raw identifiers, not standardized."""

    key: RecordKey
    attributes: Mapping[str, Any]
    identifiers: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class MappedEvent:
    """A source row that describes something a person did."""

    source: str
    event_key: str
    name: str
    occurred_at: str | None
    identifiers: Mapping[str, Any]
    properties: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class ResolvableRecord:
    """What resolution needs of a record: its key and its linkable identifiers."""

    key: RecordKey
    identifiers: tuple[Identifier, ...] = field(default_factory=tuple)
    attributes: Mapping[str, Any] = field(default_factory=dict)
