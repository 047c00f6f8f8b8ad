"""A small generated data set shared by the synth tests (generated once per session)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from ucp.synth import Rates, Summary, generate
from ucp.synth.chunk import World
from ucp.synth.people import Person
from ucp.synth.writer import DEFAULT_CHUNK_SIZE, build_world, population

SEED = 11
PERSONS = 2000
LOCALES = ("en_US", "en_GB", "de_DE", "fr_FR")


@dataclass(frozen=True)
class Dataset:
    path: Path
    summary: Summary
    world: World
    rates: Rates
    persons: int

    def people(self) -> dict[str, Person]:
        """The clean people behind the files (mailboxes settled, as the writer does)."""
        return {p.person_id: p for p in population(self.world, self.persons, DEFAULT_CHUNK_SIZE)}


@pytest.fixture(scope="session")
def world() -> World:
    return build_world(SEED, LOCALES, Rates())


@pytest.fixture(scope="session")
def dataset(tmp_path_factory: pytest.TempPathFactory, world: World) -> Dataset:
    path = tmp_path_factory.mktemp("synth")
    summary = generate(path, PERSONS, SEED, LOCALES)
    return Dataset(path, summary, world, Rates(), PERSONS)


@pytest.fixture(scope="session")
def clean_dataset(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    """The same people with every corruption rate at zero."""
    zero = {k: 0.0 for k in ("typo", "email_typo", "phone_typo", "nickname", "initial",
                             "name_swap", "missing", "transliteration", "phone_format",
                             "email_format", "address_format", "stale_address", "junk",
                             "other_email", "crm_duplicate", "shop_duplicate")}
    rates = Rates.from_dict(zero)
    path = tmp_path_factory.mktemp("synth_clean")
    summary = generate(path, 600, SEED, LOCALES, rates)
    return Dataset(path, summary, build_world(SEED, LOCALES, rates), rates, 600)
