"""Generate a data set: people in chunks, each chunk rendered to bytes, files written in order.

Chunk `i` depends only on (seed, i, locales, rates) and on the mailboxes earlier chunks took
(`mailboxes`: a first, light pass draws every chunk's people and settles their addresses in
order), so output is byte-identical for a seed whatever the number of worker processes. At most
a few chunks are in flight, so memory stays bounded however many people are asked for.
"""

from __future__ import annotations

import csv
import io
import multiprocessing
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from ucp.errors import ConfigError
from ucp.synth import events, mailboxes, records
from ucp.synth.catalog import build_catalog
from ucp.synth.chunk import Chunk, World
from ucp.synth.config_yaml import config_text
from ucp.synth.corrupt import Corruptor
from ucp.synth.locales import DEFAULT_LOCALE_WEIGHTS, LOCALES
from ucp.synth.people import Person, make_household
from ucp.synth.pools import Weighted, build_nicknames, build_pool, derive_seed
from ucp.synth.rates import Rates

#: output file -> (source, header or None for JSON lines)
FILES: dict[str, tuple[str, list[str] | None]] = {
    "crm.csv": ("crm", records.CRM_COLUMNS),
    "shop_customers.jsonl": ("shop_customers", None),
    "shop_orders.jsonl": ("shop_orders", None),
    "support_tickets.csv": ("support_tickets", records.SUPPORT_COLUMNS),
    "newsletter.csv": ("newsletter", records.NEWSLETTER_COLUMNS),
    "pos_receipts.csv": ("pos_receipts", events.POS_COLUMNS),
    "web_events.jsonl": ("web_events", None),
}
TRUTH_FILE = "truth.csv"
TRUTH_COLUMNS = ["source", "source_key", "person_id"]
DEFAULT_CHUNK_SIZE = 2000


@dataclass(slots=True)
class Summary:
    """What a run wrote: rows per source and the realised corruption tallies."""

    persons: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    #: kind -> [opportunities, applications]
    tally: dict[str, list[int]] = field(default_factory=dict)

    def add(self, rows: dict[str, int], tally: dict[str, list[int]], persons: int) -> None:
        self.persons += persons
        for k, n in rows.items():
            self.rows[k] = self.rows.get(k, 0) + n
        for k, (o, a) in tally.items():
            t = self.tally.setdefault(k, [0, 0])
            t[0] += o
            t[1] += a

    def realised(self, kind: str) -> float:
        o, a = self.tally.get(kind, [0, 0])
        return a / o if o else 0.0


def build_world(seed: int, locales: Sequence[str], rates: Rates) -> World:
    """Pools, nicknames and catalogue for a run (same inputs, same world)."""
    unknown = [loc for loc in locales if loc not in LOCALES]
    if unknown or not locales:
        raise ConfigError(
            f"unknown locale(s) {', '.join(unknown) or '(none given)'}; "
            f"supported: {', '.join(sorted(LOCALES))}"
        )
    ordered = list(dict.fromkeys(locales))
    pools = {loc: build_pool(loc, seed) for loc in ordered}
    weights = [(loc, DEFAULT_LOCALE_WEIGHTS.get(loc, 0.2)) for loc in ordered]
    return World(seed=seed, rates=rates, pools=pools, locales=Weighted.of(weights),
                 nicknames=build_nicknames(pools), catalog=build_catalog(seed))


def _presence(rates: Rates, rng: random.Random) -> tuple[bool, ...]:
    chances = (rates.in_crm, rates.in_shop, rates.in_support, rates.in_newsletter, rates.in_pos,
               rates.in_web)
    flags = [rng.random() < p for p in chances]
    if not any(flags):
        flags[rng.choices(range(6), [c or 1e-9 for c in chances])[0]] = True
    return tuple(flags)


def chunk_people(world: World, index: int, start: int, count: int,
                 rng: random.Random) -> list[Person]:
    people: list[Person] = []
    households = 0
    while len(people) < count:
        pool = world.pools[world.locales.pick(rng)]
        household = f"H{index:05d}{households:05d}"
        people += make_household(pool, world.rates, rng, household, start + len(people),
                                 count - len(people))
        households += 1
    return people


def chunk_claims(world: World, index: int, start: int, count: int) -> list[mailboxes.Claim]:
    """The email addresses chunk `index`'s people draw (before settling)."""
    rng = random.Random(derive_seed(world.seed, "chunk", index))
    return mailboxes.claims(chunk_people(world, index, start, count, rng))


def population(world: World, persons: int, chunk_size: int = DEFAULT_CHUNK_SIZE) -> list[Person]:
    """The clean people a `generate` run with these settings writes, mailboxes settled."""
    registry = mailboxes.MailboxRegistry(world.seed)
    out: list[Person] = []
    for index, start, count in _plan(persons, chunk_size):
        rng = random.Random(derive_seed(world.seed, "chunk", index))
        people = chunk_people(world, index, start, count, rng)
        mailboxes.apply(people, registry.settle(mailboxes.claims(people)))
        out += people
    return out


def render_chunk(world: World, index: int, start: int, count: int,
                 settled: dict[str, tuple[str, ...]] | None = None) -> tuple[
        dict[str, bytes], dict[str, int], dict[str, list[int]]]:
    """Chunk `index` (people start..start+count) as bytes per output file, rows, tallies.

    `settled`: replacement emails of people whose drawn address an earlier person took.
    """
    rng = random.Random(derive_seed(world.seed, "chunk", index))
    chunk = Chunk(index=index, world=world, rng=rng,
                  corrupt=Corruptor(world.rates, rng, world.nicknames))
    people = chunk_people(world, index, start, count, rng)
    mailboxes.apply(people, settled or {})
    for person in people:
        crm, shop, support, newsletter, pos, web = _presence(world.rates, rng)
        user_id, orders = records.shop(person, chunk) if shop else (None, [])
        if crm:
            records.crm(person, chunk)
        if support:
            records.support(person, chunk)
        if newsletter:
            records.newsletter(person, chunk)
        if pos:
            events.pos(person, chunk)
        if web:
            events.web(person, chunk, user_id, orders)
    out: dict[str, bytes] = {}
    rows: dict[str, int] = {}
    for name, (source, header) in FILES.items():
        if header is None:
            items = chunk.json_rows.get(source, [])
            out[name] = b"".join(orjson.dumps(r) + b"\n" for r in items)
        else:
            items = chunk.csv_rows.get(source, [])  # type: ignore[assignment]
            out[name] = _csv_bytes(items)  # type: ignore[arg-type]
        rows[source] = len(items)
    out[TRUTH_FILE] = _csv_bytes([list(t) for t in chunk.truth])
    return out, rows, chunk.corrupt.tally


def _csv_bytes(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue().encode("utf-8")


_WORKER_WORLD: World | None = None


def _init_worker(seed: int, locales: Sequence[str], rates: Rates) -> None:
    global _WORKER_WORLD
    _WORKER_WORLD = build_world(seed, locales, rates)


def _render_in_worker(args: tuple[int, int, int, dict[str, tuple[str, ...]]]) -> tuple[
        dict[str, bytes], dict[str, int], dict[str, list[int]]]:
    assert _WORKER_WORLD is not None
    return render_chunk(_WORKER_WORLD, *args)


def _claims_in_worker(args: tuple[int, int, int]) -> list[mailboxes.Claim]:
    assert _WORKER_WORLD is not None
    return chunk_claims(_WORKER_WORLD, *args)


def _plan(persons: int, chunk_size: int) -> list[tuple[int, int, int]]:
    return [(i, start, min(chunk_size, persons - start))
            for i, start in enumerate(range(0, persons, chunk_size))]


def _results(seed: int, locales: Sequence[str], rates: Rates, plan: list[tuple[int, int, int]],
             workers: int) -> Iterator[tuple[dict[str, bytes], dict[str, int],
                                             dict[str, list[int]]]]:
    registry = mailboxes.MailboxRegistry(seed)
    if workers <= 1 or len(plan) <= 1:
        world = build_world(seed, locales, rates)
        settled = [registry.settle(chunk_claims(world, *args)) for args in plan]
        registry.taken.clear()
        for args, changed in zip(plan, settled, strict=True):
            yield render_chunk(world, *args, changed)
        return
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(workers, initializer=_init_worker, initargs=(seed, list(locales), rates)) as pool:
        settled = [registry.settle(c) for c in pool.imap(_claims_in_worker, plan)]
        registry.taken.clear()
        jobs = [(*args, changed) for args, changed in zip(plan, settled, strict=True)]
        window = 2 * workers  # chunks in flight: bounds memory
        pending = [pool.apply_async(_render_in_worker, (a,)) for a in jobs[:window]]
        next_job = len(pending)
        while pending:
            result = pending.pop(0).get()
            if next_job < len(jobs):
                pending.append(pool.apply_async(_render_in_worker, (jobs[next_job],)))
                next_job += 1
            yield result


def generate(
    out: Path,
    persons: int,
    seed: int = 0,
    locales: Sequence[str] | None = None,
    rates: Rates | None = None,
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    workers: int = 1,
    on_progress: Callable[[int], None] | None = None,
) -> Summary:
    """Write the source files, `truth.csv`, `ucp.yaml` and `rates.json` into `out`.

    Args:
        persons: how many real people to invent.
        seed: the same seed (and generator version) gives byte-identical files.
        workers: processes rendering chunks (the output does not depend on it).
        on_progress: called with the number of people finished after each chunk.

    Example:
        >>> generate(Path("data"), persons=1000, seed=7)  # doctest: +SKIP
    """
    if persons < 1:
        raise ConfigError("persons: expected at least 1")
    rates = rates or Rates()
    locales = list(locales or DEFAULT_LOCALE_WEIGHTS)
    out.mkdir(parents=True, exist_ok=True)
    summary = Summary()
    handles = {name: (out / name).open("wb") for name in (*FILES, TRUTH_FILE)}
    try:
        for name, (_, header) in FILES.items():
            if header is not None:
                handles[name].write(_csv_bytes([header]))
        handles[TRUTH_FILE].write(_csv_bytes([TRUTH_COLUMNS]))
        plan = _plan(persons, chunk_size)
        for (data, rows, tally), (_, _, count) in zip(
            _results(seed, locales, rates, plan, workers), plan, strict=True
        ):
            for name, blob in data.items():
                handles[name].write(blob)
            summary.add(rows, tally, count)
            if on_progress is not None:
                on_progress(count)
    finally:
        for handle in handles.values():
            handle.close()
    (out / "ucp.yaml").write_text(config_text(), encoding="utf-8")
    (out / "rates.json").write_text(rates.dumps(), encoding="utf-8")
    return summary
