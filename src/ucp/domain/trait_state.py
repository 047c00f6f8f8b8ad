"""Incremental trait state: per-profile aggregate state that new events fold into.

`traits.evaluate` defines a trait's value from all of a profile's events. Re-reading every event
at each one that lands is linear in the profile's history, so the real-time path keeps, per
aggregate trait, a small JSON-ready *state* instead and folds each new event into it:

| aggregation | state |
|---|---|
| count, exists | `n` matching events (count with `of`: events where the field is present) |
| sum, avg | `n` numbers and their exact sum `s` · 2^-`e` (floats are binary fractions) |
| min, max | `n` values, `k` of them numbers, the numeric extreme `x`, the text extreme `t` |
| first, last | the order key `o` of the earliest / latest event with a value, and the value `v` |
| most_frequent | `c`: `[value, count, order key of its first event]` per distinct value |
| with a window | `w`, per matching event still in the window, sorted by time: its time (count, \
exists), `[time, value]` (sum, avg, min, max, count of a field), `[order key, value]` (others) |

Every fold is commutative (the order key `(time in µs, source, event key)` decides first, last and
which spelling of equal values counts), so folding events in any order, in any batches, gives the
state a single fold over all events gives: `fold(states(A), B) == states(A ∪ B)`, and `values`
of that state equals `traits.evaluate` over the same events (tests/domain/test_trait_state.py).
Windowed traits stay exact at any later `now`: their entries are pruned only once they are older
than the window plus `WINDOW_SLACK` (so a worker whose clock lags a little still sees them), and
the value is filtered at read time.

Each state carries `h`, a fingerprint of its definition: a state made under another definition
is not folded into (the caller recomputes the profile from its events).
"""

from __future__ import annotations

import hashlib
import math
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from ucp.domain.traits import (
    AggregateSpec,
    Condition,
    EventFacts,
    IdentityMemo,
    TraitSpec,
    _hashable,
    _number,
    _tidy,
    derive,
    field_value,
)

State = dict[str, Any]
#: entries of windowed traits are kept this long past their window (clock differences)
WINDOW_SLACK = timedelta(hours=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)


def micros(when: datetime) -> int:
    """A datetime as whole microseconds since the epoch (exact; naive means UTC)."""
    aware = when if when.tzinfo else when.replace(tzinfo=UTC)
    return (aware - _EPOCH) // _US


def order_key(event: EventFacts) -> list[Any]:
    """`[µs, source, key]`: the order `traits.event_order` reads events in, as JSON."""
    return [micros(event.at), event.source, event.key]


#: part of every fingerprint: a state stored in an older layout is recomputed, never misread
_LAYOUT = 2


def _digest(spec: AggregateSpec) -> str:
    where = [(c.field, c.op, repr(c.value)) for c in spec.where]
    window = spec.window.total_seconds() if spec.window else None
    text = repr((_LAYOUT, spec.name, spec.aggregate, spec.of, where, window))
    return hashlib.blake2b(text.encode(), digest_size=6).hexdigest()


#: a short, stable digest of an aggregate's definition (memoized per definition object)
fingerprint: IdentityMemo[AggregateSpec, str] = IdentityMemo(_digest, limit=10_000)


def empty(spec: AggregateSpec) -> State:
    """The state of a trait over no events."""
    base: State = {"h": fingerprint(spec)}
    if spec.window is not None:
        return {**base, "w": []}
    return {**base, **_empty_body(spec.aggregate)}


def _empty_body(agg: str) -> State:
    if agg in ("count", "exists"):
        return {"n": 0}
    if agg in ("sum", "avg"):
        return {"n": 0, "s": "0", "e": 0}
    if agg in ("min", "max"):
        return {"n": 0, "k": 0, "x": None, "t": None}
    if agg in ("first", "last"):
        return {"o": None, "v": None}
    return {"c": []}  # most_frequent


def usable(specs: Sequence[TraitSpec], states: Mapping[str, Any] | None) -> bool:
    """Whether stored states cover every aggregate under its current definition."""
    if states is None:
        return False
    for name, digest in _fingerprints(specs):
        state = states.get(name)
        if not isinstance(state, dict) or state.get("h") != digest:
            return False
    return True


#: `(name, fingerprint)` of each aggregate, per definitions object
_fingerprints: IdentityMemo[Sequence[TraitSpec], list[tuple[str, str]]] = IdentityMemo(
    lambda specs: [(s.name, fingerprint(s)) for s in specs if isinstance(s, AggregateSpec)]
)


_Plan = tuple[
    list[AggregateSpec], list[Condition], list[tuple[AggregateSpec, list[int]]], list[str]
]


def _make_fold_plan(specs: Sequence[TraitSpec]) -> _Plan:
    """The aggregates, their distinct conditions (traits often share one, such as
    `event = "Order Completed"`), which conditions each aggregate needs, and the distinct
    fields read: so each condition is tested and each field read once per event."""
    aggregates = [s for s in specs if isinstance(s, AggregateSpec)]
    tests: dict[tuple[str, str, str], int] = {}
    conditions: list[Condition] = []
    plan: list[tuple[AggregateSpec, list[int]]] = []
    for spec in aggregates:
        wanted: list[int] = []
        for c in spec.where:
            ident = (c.field, c.op, repr(c.value))
            if ident not in tests:
                tests[ident] = len(conditions)
                conditions.append(c)
            wanted.append(tests[ident])
        plan.append((spec, wanted))
    fields = sorted({spec.of for spec in aggregates if spec.of is not None})
    return aggregates, conditions, plan, fields


#: per definitions object (the worker folds with the same list for every profile)
_fold_plan: IdentityMemo[Sequence[TraitSpec], _Plan] = IdentityMemo(_make_fold_plan)


def fold(
    specs: Sequence[TraitSpec],
    states: Mapping[str, State] | None,
    events: Iterable[EventFacts],
    now: datetime,
    *,
    in_place: bool = False,
) -> dict[str, State]:
    """The states after folding `events` in (new dicts; `states` is not changed unless
    `in_place`, for a caller that owns them — the worker's states just read from the store).

    `states` None (or missing a trait) starts from empty. Events must be new to the profile:
    folding the same event twice counts it twice.
    """
    aggregates, conditions, plan, fields = _fold_plan(specs)
    out: dict[str, State] = {}
    for spec in aggregates:
        old = (states or {}).get(spec.name)
        if old is None:
            out[spec.name] = empty(spec)
        else:
            out[spec.name] = old if in_place else _copy(old)
    cutoff = {
        s.name: micros(now - s.window - WINDOW_SLACK) for s in aggregates if s.window is not None
    }
    for event in events:
        key: list[Any] | None = None
        passed = [c.test(event) for c in conditions]
        read = {path: field_value(event, path) for path in fields}
        for spec, wanted in plan:
            if not all(passed[i] for i in wanted):
                continue
            key = key or order_key(event)
            value = read[spec.of] if spec.of is not None else None
            state = out[spec.name]
            if spec.window is not None:
                if key[0] >= cutoff[spec.name]:
                    state["w"].append(_entry(spec, key, value))
            else:
                _add(spec, state, key, value)
    for spec in aggregates:
        state = out[spec.name]
        if spec.window is not None:
            entries = state["w"]
            entries.sort(key=_entry_order(spec))  # nearly sorted already: linear
            state["w"] = entries[_first_at(spec, entries, cutoff[spec.name]):]
        elif "c" in state:  # canonical order, whatever order the values came in
            state.pop("_index", None)
            state["c"].sort(key=lambda e: (str(e[0]), type(e[0]).__name__))
    return out


def values(
    specs: Sequence[TraitSpec], states: Mapping[str, State], now: datetime
) -> dict[str, Any]:
    """Every trait's value at `now` from the states (windows filtered, derived values
    computed) — equal to `traits.evaluate` over the events folded into the states."""
    out: dict[str, Any] = {}
    for spec in specs:
        if isinstance(spec, AggregateSpec):
            out[spec.name] = _value(spec, states[spec.name], now)
        else:
            out[spec.name] = derive(spec, out, now)
    return out


def _value(spec: AggregateSpec, state: State, now: datetime) -> Any:
    if spec.window is None:
        return _body_value(spec.aggregate, state)
    entries = state["w"]
    first = _first_at(spec, entries, micros(now - spec.window))
    if _times_only(spec):
        n = len(entries) - first
        return n > 0 if spec.aggregate == "exists" else n
    body = _empty_body(spec.aggregate)
    keyed = _keyed(spec)
    for entry in entries[first:]:
        key = entry[0] if keyed else [entry[0]]
        _add(spec, body, key, entry[1])
    return _body_value(spec.aggregate, body)


def _times_only(spec: AggregateSpec) -> bool:
    return spec.aggregate == "exists" or (spec.aggregate == "count" and spec.of is None)


def _keyed(spec: AggregateSpec) -> bool:
    """Whether the value depends on the event order (first, last, most_frequent)."""
    return spec.aggregate in ("first", "last", "most_frequent")


def _entry(spec: AggregateSpec, key: list[Any], value: Any) -> Any:
    if _times_only(spec):
        return key[0]
    return [key, value] if _keyed(spec) else [key[0], value]


def _entry_order(spec: AggregateSpec) -> Any:
    """Sort key of window entries: by time, then a canonical tie-break, so any fold order
    stores the same list."""
    if _times_only(spec):
        return None
    if _keyed(spec):
        return lambda e: tuple(e[0])
    return lambda e: (e[0], type(e[1]).__name__, str(e[1]))


def _first_at(spec: AggregateSpec, entries: list[Any], start: int) -> int:
    """Index of the first entry at or after `start` µs (entries are sorted by time)."""
    if _times_only(spec):
        return bisect_left(entries, start)
    if _keyed(spec):
        return bisect_left(entries, start, key=lambda e: e[0][0])
    return bisect_left(entries, start, key=lambda e: e[0])


def _copy(state: State) -> State:
    out = dict(state)
    if "w" in out:
        out["w"] = list(out["w"])
    if "c" in out:
        out["c"] = [list(e) for e in out["c"]]
    return out


def _add(spec: AggregateSpec, state: State, key: list[Any], value: Any) -> None:
    """Fold one matching event (its order key and `of` value) into a non-windowed state."""
    agg = spec.aggregate
    if agg == "exists" or (agg == "count" and spec.of is None):
        state["n"] += 1
        return
    if value is None:
        return
    if agg == "count":
        state["n"] += 1
    elif agg in ("sum", "avg"):
        number = _number(value)
        if number is not None:
            state["n"] += 1
            _add_exact(state, number)
    elif agg in ("min", "max"):
        _add_extreme(agg, state, value)
    elif agg in ("first", "last"):
        old = state["o"]
        if old is None or (key < old if agg == "first" else key > old):
            state["o"], state["v"] = key, value
    else:
        _add_frequency(state, key, _hashable(value))


def _add_exact(state: State, number: float) -> None:
    """`s · 2^-e += number`, exactly. The numerator is text: it can outgrow 64-bit JSON
    integers. Kept canonical (odd numerator or e = 0), so any order gives the same state."""
    p, q = number.as_integer_ratio()  # q is a power of two
    j = q.bit_length() - 1
    num, e = int(state["s"]), state["e"]
    k = max(e, j)
    num = (num << (k - e)) + (p << (k - j))
    if num == 0:
        k = 0
    else:
        shift = min(k, (num & -num).bit_length() - 1)
        num, k = num >> shift, k - shift
    state["s"], state["e"] = str(num), k


def _add_extreme(agg: str, state: State, value: Any) -> None:
    pick = min if agg == "min" else max
    state["n"] += 1
    number = _number(value)
    if number is not None:
        state["k"] += 1
        state["x"] = number if state["x"] is None else pick(state["x"], number)
    if not isinstance(value, (dict, list)):
        text = str(value)
        state["t"] = text if state["t"] is None else pick(state["t"], text)


def _add_frequency(state: State, key: list[Any], value: Any) -> None:
    """Equal values (by ==, as `collections.Counter` counts them: 1, 1.0 and True are one)
    share one entry, spelled as on their earliest event."""
    index = state.get("_index")
    if index is None:
        index = state["_index"] = {e[0]: e for e in state["c"]}
    entry = index.get(value)
    if entry is None:
        entry = index[value] = [value, 0, key]
        state["c"].append(entry)
    entry[1] += 1
    if key < entry[2]:
        entry[0], entry[2] = value, key


def _body_value(agg: str, state: State) -> Any:
    if agg == "exists":
        return state["n"] > 0
    if agg == "count":
        return state["n"]
    if agg == "sum":
        return _tidy(_float(state))
    if agg == "avg":
        return _tidy(_float(state) / state["n"]) if state["n"] else None
    if agg in ("min", "max"):
        if state["k"] and state["k"] == state["n"]:
            return _tidy(state["x"])
        return state["t"]
    if agg in ("first", "last"):
        return state["v"]
    if not state["c"]:
        return None
    best = min(state["c"], key=lambda e: (-e[1], str(e[0])))
    return best[0]


def _float(state: State) -> float:
    """The correctly rounded float of the exact sum (int / int rounds correctly) — what
    `math.fsum` returns for the same terms."""
    value: float = int(state["s"]) / (1 << int(state["e"]))
    if not math.isfinite(value):
        raise OverflowError("sum too large")
    return value
