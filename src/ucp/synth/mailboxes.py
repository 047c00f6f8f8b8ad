"""One mailbox, one owner: settle the email addresses people drew, first come first served.

People draw name-derived addresses (`jsmith@…`, `john.smith@…`), so at tens of thousands of
persons two people with a common name draw the same one. A real provider never hands one mailbox
to two people: whoever asks later gets digits added (`jsmith4821@…`). The only deliberately
shared mailboxes are a household's family address (shared by its members) and the junk values
sources type in (added later, by `corrupt`).

Chunks are drawn independently (in worker processes), so settling is a separate, sequential
pass over every chunk's drawn addresses in person order; the replacements go back to the chunk
that renders the records. A replacement is drawn from its own seed (seed, person, slot), never
from the chunk's generator, so the rest of the chunk is drawn exactly as before.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from ucp.domain.standardize.email import standardize_email
from ucp.synth.people import Person
from ucp.synth.pools import derive_seed

#: what settling needs of one person: id, household, drawn emails, whether emails[1] is the
#: household's family mailbox
Claim = tuple[str, str, tuple[str, ...], bool]

_DIGITS = "0123456789"


def claims(people: list[Person]) -> list[Claim]:
    """The addresses a chunk's people drew, in person order."""
    return [(p.person_id, p.household_id, tuple(p.emails), "shared_email" in p.tags)
            for p in people]


@dataclass(slots=True)
class MailboxRegistry:
    """Every mailbox handed out so far in a run (fed chunk by chunk, in order)."""

    seed: int
    taken: set[str] = field(default_factory=set)

    def settle(self, chunk_claims: list[Claim]) -> dict[str, tuple[str, ...]]:
        """Replacement emails for the people whose drawn address was already someone else's."""
        changed: dict[str, tuple[str, ...]] = {}
        family: dict[str, str] = {}  # household -> its settled family mailbox
        for person_id, household, emails, shared in chunk_claims:
            settled: list[str] = []
            for slot, email in enumerate(emails):
                if shared and slot == 1:
                    if household not in family:
                        family[household] = self._claim(email, f"{household}:family")
                    settled.append(family[household])
                else:
                    settled.append(self._claim(email, f"{person_id}:{slot}"))
            if tuple(settled) != emails:
                changed[person_id] = tuple(settled)
        return changed

    def _claim(self, email: str, owner: str) -> str:
        key = mailbox(email)
        if key not in self.taken:
            self.taken.add(key)
            return email
        local, _, domain = email.rpartition("@")
        base = local.rstrip(_DIGITS) or local
        rng = random.Random(derive_seed(self.seed, "mailbox", owner))
        span = 100
        while True:
            for _ in range(8):
                candidate = f"{base}{rng.randrange(1, span)}@{domain}"
                key = mailbox(candidate)
                if key not in self.taken:
                    self.taken.add(key)
                    return candidate
            span *= 10


def mailbox(email: str) -> str:
    """The mailbox an address delivers to, as its provider sees it: case-insensitive, and
    Gmail ignores dots (`john.smith@` and `johnsmith@gmail.com` are one mailbox)."""
    return standardize_email(email).match or email.lower()


def apply(people: list[Person], changed: dict[str, tuple[str, ...]]) -> None:
    """Give each person their settled addresses."""
    if not changed:
        return
    for person in people:
        settled = changed.get(person.person_id)
        if settled is not None:
            person.emails = list(settled)
