"""Each corruption kind shows up at its configured rate, in the tallies and in the files."""

from __future__ import annotations

import csv
import math
import random

import pytest

from ucp.synth import Rates
from ucp.synth.corrupt import JUNK_EMAILS, TYPO_KINDS, Corruptor, typo

CORRUPTIONS = ("typo", "email_typo", "phone_typo", "nickname", "initial", "name_swap", "missing",
               "transliteration", "phone_format", "email_format", "address_format",
               "stale_address", "junk", "other_email", "crm_duplicate", "shop_duplicate")


def _within(observed: int, trials: int, rate: float) -> bool:
    """Binomial tolerance: 4 standard deviations, and at least 3 events of slack."""
    sigma = math.sqrt(trials * rate * (1 - rate))
    return abs(observed - trials * rate) <= max(4 * sigma, 3)


@pytest.mark.parametrize("kind", CORRUPTIONS)
def test_each_kind_is_applied_at_its_rate(dataset, kind: str) -> None:
    trials, applied = dataset.summary.tally[kind]
    rate = getattr(dataset.rates, kind)
    assert trials >= 100, f"too few opportunities for {kind}"
    assert applied > 0
    assert _within(applied, trials, rate), (kind, applied / trials, rate)


def _crm(dataset) -> list[dict[str, str]]:
    with (dataset.path / "crm.csv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _crm_people(dataset):
    people = dataset.people()
    with (dataset.path / "truth.csv").open(encoding="utf-8", newline="") as f:
        owner = {r["source_key"]: r["person_id"] for r in csv.DictReader(f) if r["source"] == "crm"}
    return [(row, people[owner[row["ContactId"]]]) for row in _crm(dataset)]


def test_crm_files_show_nicknames_initials_junk_and_gaps(dataset) -> None:
    pairs = _crm_people(dataset)
    nick = sum(1 for row, p in pairs if row["FirstName"] in dataset.world.nicknames.get(
        p.given_name, ()))
    with_nicks = sum(1 for _, p in pairs if p.given_name in dataset.world.nicknames)
    assert 0.03 < nick / with_nicks < 0.15
    initials = sum(1 for row, _ in pairs if 0 < len(row["FirstName"].rstrip(".")) == 1)
    assert initials > 0
    junk = sum(1 for row, _ in pairs if row["Email"] in JUNK_EMAILS)
    assert 0 < junk / len(pairs) < 0.04
    empty = sum(1 for row, _ in pairs if row["FirstName"] == "")
    assert _within(empty, len(pairs), dataset.rates.missing)
    exact = sum(1 for row, p in pairs if row["FirstName"] == p.given_name)
    assert 0.7 < exact / len(pairs) < 0.95


def test_zero_rates_leave_crm_names_and_emails_exact(clean_dataset) -> None:
    for row, person in _crm_people(clean_dataset):
        assert row["FirstName"] == person.given_name
        assert row["Email"] == person.emails[0]
        assert row["MailingPostalCode"] == person.addresses[-1][1].postcode or "mover" in \
            person.tags


def test_rate_one_turns_every_nicknamed_name(world) -> None:
    corruptor = Corruptor(Rates.from_dict({"nickname": 1.0, "typo": 0.0, "name_swap": 0.0,
                                           "junk": 0.0}), random.Random(1), world.nicknames)
    for name in list(world.nicknames)[:50]:
        assert corruptor.names(name, "Smith")[0] in world.nicknames[name]


def test_typo_kinds_change_one_keystroke() -> None:
    rng = random.Random(3)
    kinds = set()
    for _ in range(400):
        changed, kind = typo("elizabeth", rng)
        kinds.add(kind)
        assert changed != "elizabeth" or kind == "transposition"
        assert abs(len(changed) - len("elizabeth")) <= 1
    assert kinds == set(TYPO_KINDS)
