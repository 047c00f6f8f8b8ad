"""Mapping: a raw source row (CSV columns or nested JSON) to canonical attributes (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ucp.domain.model import MappedEvent, MappedRow, RecordKey

_MISSING = object()


class MappingProblem(ValueError):
    """A row cannot be mapped; `field` names the source column or path at fault."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def lookup(row: Mapping[str, Any], path: str) -> Any:
    """The value at `path`: an exact column name first, else a dotted path into nested JSON."""
    if path in row:
        return row[path]
    node: Any = row
    for part in path.split("."):
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def _scalar(value: Any, path: str) -> Any:
    if value is None:
        return None
    if isinstance(value, (dict, list)):
        raise MappingProblem(path, f"expected a single value, got a {type(value).__name__}")
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if isinstance(value, (bool, int, float)):
        return value
    return str(value)


def _key(row: Mapping[str, Any], path: str) -> str:
    value = _scalar(lookup(row, path), path)
    if value is None:
        raise MappingProblem(path, "source key is missing")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


@dataclass(frozen=True, slots=True)
class RowMapping:
    """How one source's rows map: attribute paths, identifier paths and the key path."""

    source: str
    source_key: str
    attributes: Mapping[str, str]
    identifiers: Mapping[str, str]

    def key_of(self, row: Mapping[str, Any]) -> str:
        return _key(row, self.source_key)

    def map_record(self, row: Mapping[str, Any]) -> MappedRow:
        key = RecordKey(self.source, _key(row, self.source_key))
        attributes = {}
        for attribute, path in self.attributes.items():
            value = _scalar(lookup(row, path), path)
            if value is not None:
                attributes[attribute] = value
        identifiers = {}
        for id_type, path in self.identifiers.items():
            value = _scalar(lookup(row, path), path)
            if value is not None:
                identifiers[id_type] = value
        return MappedRow(key=key, attributes=attributes, identifiers=identifiers)

    def map_event(
        self,
        row: Mapping[str, Any],
        name: str | None,
        name_path: str | None,
        timestamp_path: str,
        properties: list[str] | str,
    ) -> MappedEvent:
        event_key = _key(row, self.source_key)
        path = name_path or ""
        event_name = name if name is not None else _scalar(lookup(row, path), path)
        if event_name is None:
            raise MappingProblem(name_path or "event", "event name is missing")
        occurred = _scalar(lookup(row, timestamp_path), timestamp_path)
        if properties == "*":
            props = dict(row)
        else:
            props = {p: lookup(row, p) for p in properties}
        identifiers = {}
        for id_type, path in self.identifiers.items():
            value = _scalar(lookup(row, path), path)
            if value is not None:
                identifiers[id_type] = value
        return MappedEvent(
            source=self.source,
            event_key=event_key,
            name=str(event_name),
            occurred_at=None if occurred is None else str(occurred),
            identifiers=identifiers,
            properties=props,
        )
