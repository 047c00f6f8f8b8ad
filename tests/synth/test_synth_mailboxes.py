"""A mailbox belongs to one person, unless shared on purpose (a household's family mailbox)."""

from __future__ import annotations

import csv
import random
from collections import defaultdict
from pathlib import Path

from ucp.synth import Rates, generate
from ucp.synth.mailboxes import mailbox
from ucp.synth.people import Person
from ucp.synth.pools import derive_seed
from ucp.synth.writer import TRUTH_FILE, build_world, chunk_people, population

SEED = 3
#: one locale and many common names: people with the same name draw the same addresses
CROWDED = Rates(common_name=0.5)
LOCALES = ("en_US",)
PERSONS, CHUNK = 3000, 500
ZERO_CORRUPTION = {k: 0.0 for k in (
    "typo", "email_typo", "phone_typo", "nickname", "initial", "name_swap", "missing",
    "transliteration", "phone_format", "email_format", "address_format", "stale_address",
    "junk", "other_email", "crm_duplicate", "shop_duplicate")}


def _holders(people: list[Person]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = defaultdict(set)
    for p in people:
        for email in p.emails:
            out[mailbox(email)].add(p.person_id)
    return out


def _family_mailboxes(people: list[Person]) -> dict[str, set[str]]:
    """family mailbox -> the household ids that deliberately share it"""
    out: dict[str, set[str]] = defaultdict(set)
    for p in people:
        if "shared_email" in p.tags:
            out[mailbox(p.emails[1])].add(p.household_id)
    return out


def test_drawn_addresses_collide_in_this_population() -> None:
    """The scenario below is a real test: before settling, namesakes draw the same mailbox."""
    world = build_world(SEED, LOCALES, CROWDED)
    drawn: list[Person] = []
    for index, start in enumerate(range(0, PERSONS, CHUNK)):
        rng = random.Random(derive_seed(SEED, "chunk", index))
        drawn += chunk_people(world, index, start, CHUNK, rng)
    family = _family_mailboxes(drawn)
    clashes = [e for e, ids in _holders(drawn).items() if len(ids) > 1 and e not in family]
    assert len(clashes) > 20


def test_no_two_people_share_a_mailbox_unless_it_is_their_family_mailbox() -> None:
    people = population(build_world(SEED, LOCALES, CROWDED), PERSONS, CHUNK)
    by_id = {p.person_id: p for p in people}
    family = _family_mailboxes(people)
    assert family, "the population has family mailboxes"
    for email, ids in _holders(people).items():
        if len(ids) == 1:
            continue
        assert email in family, email
        assert len(family[email]) == 1, email  # one household per family mailbox
        assert {by_id[i].household_id for i in ids} == family[email]
    for p in people:
        assert len({mailbox(e) for e in p.emails}) == len(p.emails)


def test_written_records_keep_one_owner_per_mailbox(tmp_path: Path) -> None:
    """Through the worker processes too: the files carry the settled addresses."""
    rates = Rates.from_dict({**CROWDED.to_dict(), **ZERO_CORRUPTION})
    generate(tmp_path, 1200, SEED, LOCALES, rates, chunk_size=300, workers=2)
    people = population(build_world(SEED, LOCALES, rates), 1200, 300)
    family = _family_mailboxes(people)
    with (tmp_path / TRUTH_FILE).open(encoding="utf-8", newline="") as f:
        owner = {(r["source"], r["source_key"]): r["person_id"] for r in csv.DictReader(f)}
    with (tmp_path / "crm.csv").open(encoding="utf-8", newline="") as f:
        crm = list(csv.DictReader(f))
    holders: dict[str, set[str]] = defaultdict(set)
    for row in crm:
        if row["Email"]:
            holders[mailbox(row["Email"])].add(owner[("crm", row["ContactId"])])
    assert len(holders) > 500
    shared = {e for e, ids in holders.items() if len(ids) > 1}
    assert shared <= set(family)
    settled = _holders(people)
    for email, ids in holders.items():
        assert ids <= settled[email], email
