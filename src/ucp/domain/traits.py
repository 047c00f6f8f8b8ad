"""Computed traits: pure definitions and evaluation over a profile's events (design.md §2: trait).

A trait is either an *aggregate* over the events that pass a filter (and an optional window), or a
*derived* value: an arithmetic expression over other traits, such as
`lifetime_value / order_count` or `days_since(last_order_at)`.

Evaluation is a pure function of (definitions, events, now): the incremental path (one profile
as its events land) and the batch path (`ucp traits rebuild`) call the same function on the same
events in the same order, so they give identical values.

Example:
    >>> spec = AggregateSpec("n", "count", None, (Condition("event", "eq", "Order Completed"),))
    >>> evaluate([spec], [], datetime(2024, 1, 1, tzinfo=UTC))
    {'n': 0}
"""

from __future__ import annotations

import ast
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, Literal, TypeVar

Aggregation = Literal[
    "count", "sum", "avg", "min", "max", "first", "last", "most_frequent", "exists"
]
AGGREGATIONS: tuple[str, ...] = (
    "count", "sum", "avg", "min", "max", "first", "last", "most_frequent", "exists",
)
#: aggregations that need an `of` field
NEEDS_FIELD = frozenset({"sum", "avg", "min", "max", "first", "last", "most_frequent"})
OPERATORS = ("eq", "ne", "gt", "gte", "lt", "lte", "in", "exists")
#: event fields that are not paths into the properties
BUILTIN_FIELDS = ("event", "source", "timestamp", "received_at")
_WINDOW = re.compile(r"^\s*(\d+)\s*([dhm])\s*$")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}


class TraitDefinitionError(ValueError):
    """A trait definition cannot be used; the message says why (never a data value)."""


@dataclass(frozen=True, slots=True)
class EventFacts:
    """What trait evaluation reads of one event."""

    source: str
    key: str
    name: str
    occurred_at: datetime | None
    received_at: datetime
    properties: Mapping[str, Any]

    @property
    def at(self) -> datetime:
        """When it happened: the original timestamp, else when it was received."""
        return self.occurred_at or self.received_at


@dataclass(frozen=True, slots=True)
class Condition:
    """`field op value`; `field` is a builtin (`event`, `source` …) or a properties path."""

    field: str
    op: str
    value: Any = None

    def test(self, event: EventFacts) -> bool:
        actual = field_value(event, self.field)
        if self.op == "exists":
            return (actual is not None) == bool(self.value)
        if actual is None:
            return self.op == "ne"
        if self.op == "eq":
            return _same(actual, self.value)
        if self.op == "ne":
            return not _same(actual, self.value)
        if self.op == "in":
            return any(_same(actual, v) for v in self.value)
        left, right = _comparable(actual, self.value)
        if left is None or right is None:
            return False
        if self.op == "gt":
            return bool(left > right)
        if self.op == "gte":
            return bool(left >= right)
        if self.op == "lt":
            return bool(left < right)
        return bool(left <= right)


@dataclass(frozen=True, slots=True)
class AggregateSpec:
    """An aggregate over events: `aggregate(of) where conditions [within window]`."""

    name: str
    aggregate: str
    of: str | None = None
    where: tuple[Condition, ...] = ()
    window: timedelta | None = None

    def matches(self, event: EventFacts, now: datetime) -> bool:
        if self.window is not None and event.at < now - self.window:
            return False
        return all(c.test(event) for c in self.where)


@dataclass(frozen=True, slots=True)
class DerivedSpec:
    """A value computed from other traits: `+ - * /`, numbers, `days_since(x)`, `coalesce(a, b)`."""

    name: str
    expression: str
    tree: ast.expr = field(compare=False, repr=False)
    refs: frozenset[str] = frozenset()


TraitSpec = AggregateSpec | DerivedSpec


# -- building definitions (from the validated `traits:` section of ucp.yaml) ----------------------
def parse_window(text: str) -> timedelta:
    """`30d`, `12h` or `15m` as a timedelta."""
    found = _WINDOW.match(text)
    if not found or int(found.group(1)) <= 0:
        raise TraitDefinitionError(f"window must look like '30d', '12h' or '15m', got {text!r}")
    return timedelta(**{_UNITS[found.group(2)]: int(found.group(1))})


def parse_where(where: Mapping[str, Any]) -> tuple[Condition, ...]:
    """`{field: value}`, `{field: [v1, v2]}` or `{field: {op: value, …}}` → conditions."""
    out: list[Condition] = []
    for fld, spec in where.items():
        if isinstance(spec, Mapping):
            for op, value in spec.items():
                if op not in OPERATORS:
                    raise TraitDefinitionError(
                        f"unknown operator {op!r} for {fld!r} (use one of {', '.join(OPERATORS)})"
                    )
                if op == "in" and not isinstance(value, list):
                    raise TraitDefinitionError(f"'in' for {fld!r} needs a list")
                out.append(Condition(fld, op, value))
        elif isinstance(spec, list):
            out.append(Condition(fld, "in", spec))
        else:
            out.append(Condition(fld, "eq", spec))
    return tuple(out)


_FUNCTIONS = {"days_since": 1, "coalesce": 2, "round": 2}


def parse_expression(name: str, text: str) -> DerivedSpec:
    """Parse and check a derived expression; only arithmetic, names and known functions."""
    try:
        tree = ast.parse(text, mode="eval").body
    except SyntaxError:
        raise TraitDefinitionError(f"not a valid expression: {text!r}") from None
    refs: set[str] = set()

    def check(node: ast.AST) -> None:
        if isinstance(node, ast.BinOp) and isinstance(
            node.op, (ast.Add, ast.Sub, ast.Mult, ast.Div)
        ):
            check(node.left)
            check(node.right)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            check(node.operand)
        elif isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return
        elif isinstance(node, ast.Name):
            refs.add(node.id)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in _FUNCTIONS
            and len(node.args) == _FUNCTIONS[node.func.id]
            and not node.keywords
        ):
            for arg in node.args:
                check(arg)
        else:
            raise TraitDefinitionError(
                f"unsupported syntax in {text!r}: use trait names, numbers, + - * /, "
                "days_since(x), coalesce(a, b), round(x, n)"
            )

    check(tree)
    return DerivedSpec(name, text, tree, frozenset(refs))


def check_references(specs: Sequence[TraitSpec]) -> None:
    """Derived traits may only name traits declared before them (no cycles by construction)."""
    seen: set[str] = set()
    for spec in specs:
        if isinstance(spec, DerivedSpec):
            unknown = sorted(spec.refs - seen)
            if unknown:
                raise TraitDefinitionError(
                    f"{spec.name}: refers to {', '.join(unknown)}, which is not a trait "
                    "declared above it"
                )
        seen.add(spec.name)


# -- evaluation ---------------------------------------------------------------------------------
def field_value(event: EventFacts, path: str) -> Any:
    """A builtin field or the value at a dotted path of the event's properties."""
    if path == "event":
        return event.name
    if path == "source":
        return event.source
    if path == "timestamp":
        return event.at.isoformat()
    if path == "received_at":
        return event.received_at.isoformat()
    node: Any = event.properties
    if path in node:
        return node[path]
    for part in path.split("."):
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        else:
            return None
    return node


def event_order(event: EventFacts) -> tuple[datetime, str, str]:
    """Events are read in the order they happened, late arrivals in their place."""
    return (event.at, event.source, event.key)


def evaluate(
    specs: Sequence[TraitSpec], events: Iterable[EventFacts], now: datetime
) -> dict[str, Any]:
    """Every trait of one profile from its events (any order) at time `now`."""
    ordered = sorted(events, key=event_order)
    values: dict[str, Any] = {}
    for spec in specs:
        if isinstance(spec, AggregateSpec):
            values[spec.name] = _aggregate(spec, [e for e in ordered if spec.matches(e, now)])
        else:
            values[spec.name] = derive(spec, values, now)
    return values


def derive_all(
    specs: Sequence[TraitSpec], stored: Mapping[str, Any], now: datetime
) -> dict[str, Any]:
    """Stored aggregate values plus derived values computed at `now` (for reads)."""
    values: dict[str, Any] = {}
    for spec in specs:
        if isinstance(spec, AggregateSpec):
            values[spec.name] = stored.get(spec.name)
        else:
            values[spec.name] = derive(spec, values, now)
    return values


def _aggregate(spec: AggregateSpec, events: Sequence[EventFacts]) -> Any:
    agg = spec.aggregate
    if agg == "exists":
        return bool(events)
    if agg == "count":
        if spec.of is None:
            return len(events)
        return sum(1 for e in events if field_value(e, spec.of) is not None)
    assert spec.of is not None
    values = [v for e in events if (v := field_value(e, spec.of)) is not None]
    if agg == "first":
        return values[0] if values else None
    if agg == "last":
        return values[-1] if values else None
    if agg == "most_frequent":
        if not values:
            return None
        counts = Counter(_hashable(v) for v in values)
        best = min(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))
        return best[0]
    numbers = [n for v in values if (n := _number(v)) is not None]
    if agg == "sum":
        return _tidy(math.fsum(numbers))
    if agg == "avg":
        return _tidy(math.fsum(numbers) / len(numbers)) if numbers else None
    if numbers and len(numbers) == len(values):
        return _tidy(min(numbers) if agg == "min" else max(numbers))
    texts = [str(v) for v in values if not isinstance(v, (dict, list))]
    if not texts:
        return None
    return min(texts) if agg == "min" else max(texts)


_OPS: dict[type[ast.operator], Callable[[float, float], float | None]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b if b else None,
}


def derive(spec: DerivedSpec, values: Mapping[str, Any], now: datetime) -> Any:
    """The value of a derived trait, or None when an input is missing or a division is by 0."""
    result = _compiled(spec)(values, now)
    return _tidy(result) if isinstance(result, float) else result


_Eval = Callable[[Mapping[str, Any], datetime], Any]
_K = TypeVar("_K")
_V = TypeVar("_V")


class IdentityMemo(Generic[_K, _V]):
    """`make(obj)` remembered per object: trait definitions are made once (per config) and used
    for every profile a batch reaches. By identity, since definitions may hold unhashable
    values; the object is kept, so its id cannot be reused by another while remembered."""

    def __init__(self, make: Callable[[_K], _V], limit: int = 1_000) -> None:
        self.make = make
        self.limit = limit
        self.known: dict[int, tuple[_K, _V]] = {}

    def __call__(self, obj: _K) -> _V:
        hit = self.known.get(id(obj))
        if hit is not None and hit[0] is obj:
            return hit[1]
        value = self.make(obj)
        if len(self.known) >= self.limit:
            self.known.clear()
        self.known[id(obj)] = (obj, value)
        return value


#: the expression as nested closures, built once per definition
_compiled: IdentityMemo[DerivedSpec, _Eval] = IdentityMemo(lambda spec: _compile(spec.tree))


def _compile(node: ast.expr) -> _Eval:
    if isinstance(node, ast.Constant):
        constant = node.value
        return lambda values, now: constant
    if isinstance(node, ast.Name):
        name = node.id
        return lambda values, now: values.get(name)
    if isinstance(node, ast.UnaryOp):
        inner = _compile(node.operand)

        def negate(values: Mapping[str, Any], now: datetime) -> Any:
            operand = _number(inner(values, now))
            return None if operand is None else -operand

        return negate
    if isinstance(node, ast.BinOp):
        left_of, right_of, op = _compile(node.left), _compile(node.right), _OPS[type(node.op)]

        def binary(values: Mapping[str, Any], now: datetime) -> Any:
            left, right = _number(left_of(values, now)), _number(right_of(values, now))
            if left is None or right is None:
                return None
            return op(left, right)

        return binary
    assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    args = [_compile(a) for a in node.args]
    name = node.func.id
    if name == "coalesce":
        first, second = args

        def coalesce(values: Mapping[str, Any], now: datetime) -> Any:
            value = first(values, now)
            return value if value is not None else second(values, now)

        return coalesce
    if name == "round":
        number_of, digits_of = args

        def rounded(values: Mapping[str, Any], now: datetime) -> Any:
            number, digits = _number(number_of(values, now)), _number(digits_of(values, now))
            return None if number is None or digits is None else round(number, int(digits))

        return rounded
    (when_of,) = args

    def days_since(values: Mapping[str, Any], now: datetime) -> Any:
        when = _timestamp(when_of(values, now))
        return None if when is None else (now - when).days

    return days_since


# -- value helpers ------------------------------------------------------------------------------
def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def _tidy(value: float) -> float | int:
    """Whole numbers as int, others rounded to 6 decimals (money, averages) for stable JSON."""
    rounded = round(value, 6)
    return int(rounded) if rounded.is_integer() else rounded


def _same(actual: Any, expected: Any) -> bool:
    if actual == expected:
        return True
    a, b = _number(actual), _number(expected)
    return a is not None and b is not None and a == b


def _comparable(actual: Any, expected: Any) -> tuple[Any, Any]:
    a, b = _number(actual), _number(expected)
    if a is not None and b is not None:
        return a, b
    if isinstance(actual, str) and isinstance(expected, str):
        return actual, expected
    return None, None


def _hashable(value: Any) -> Any:
    return value if isinstance(value, (str, int, float, bool)) else str(value)


def _timestamp(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        when = value
    elif isinstance(value, str):
        try:
            when = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)
