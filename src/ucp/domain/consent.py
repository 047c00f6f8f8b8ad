"""Consent state from the ledger (pure): what a person allows, per purpose, right now.

The ledger is append-only; a profile's state is computed at read time from the entries on the
profile itself (and its retired ids) and on every identifier its records carry. Entries on one
subject form a *thread*; a thread's newest entry is that subject's state.

The rule when threads disagree (two profiles merged, or an email and a phone of one person say
different things) — **the stricter state wins unless a later explicit grant exists**:

1. no entry for the purpose → the purpose's configured default (`source = "default"`);
2. every thread agrees → that state;
3. otherwise the newest restrictive thread head (`denied` / `withdrawn`) wins, unless some
   thread's head is a `granted` entry strictly later than it — then that grant wins.
   At equal times the restrictive entry wins.

Example: `withdrawn` on email at 10:00 and `granted` on the CRM id at 09:00 → withdrawn;
a `granted` at 11:00 (the person opted in again) → granted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Literal

Status = Literal["granted", "denied", "withdrawn"]
STATUSES: Final[tuple[str, ...]] = ("granted", "denied", "withdrawn")
RESTRICTIVE: Final[frozenset[str]] = frozenset({"denied", "withdrawn"})
PROFILE_SUBJECT: Final = "profile"

#: raw status values a file or event may carry, and what each means
STATUS_WORDS: Final[dict[str, str]] = {
    "granted": "granted",
    "grant": "granted",
    "true": "granted",
    "yes": "granted",
    "y": "granted",
    "1": "granted",
    "opt_in": "granted",
    "opted_in": "granted",
    "optin": "granted",
    "subscribed": "granted",
    "denied": "denied",
    "deny": "denied",
    "false": "denied",
    "no": "denied",
    "n": "denied",
    "0": "denied",
    "declined": "denied",
    "withdrawn": "withdrawn",
    "withdraw": "withdrawn",
    "revoked": "withdrawn",
    "opt_out": "withdrawn",
    "opted_out": "withdrawn",
    "optout": "withdrawn",
    "unsubscribed": "withdrawn",
}


def parse_status(raw: Any, mapping: Mapping[str, str] | None = None) -> str | None:
    """A raw status value as `granted` / `denied` / `withdrawn`, or None when unknown.

    `mapping` (from a source's consent section) is consulted first, then `STATUS_WORDS`.
    """
    if raw is None or isinstance(raw, (dict, list)):
        return None
    text = str(raw).strip()
    if mapping:
        if text in mapping:
            return mapping[text]
        lowered = {k.lower(): v for k, v in mapping.items()}
        if text.lower() in lowered:
            return lowered[text.lower()]
    return STATUS_WORDS.get(text.lower().replace("-", "_").replace(" ", "_"))


@dataclass(frozen=True, slots=True)
class ConsentEntry:
    """One ledger entry, as the state computation sees it."""

    subject_type: str
    subject: str
    purpose: str
    status: str
    occurred_at: datetime
    channel: str | None = None
    source: str = ""
    id: int = 0

    @property
    def thread(self) -> tuple[str, str]:
        return self.subject_type, self.subject


@dataclass(frozen=True, slots=True)
class PurposeState:
    """The state of one purpose for one profile, and the entry that decided it."""

    purpose: str
    status: str
    default: bool
    legal_basis: str
    decided_by: ConsentEntry | None = None
    conflicting: tuple[ConsentEntry, ...] = field(default_factory=tuple)

    @property
    def allowed(self) -> bool:
        return self.status == "granted"

    def to_dict(self) -> dict[str, Any]:
        e = self.decided_by
        return {
            "purpose": self.purpose,
            "status": self.status,
            "allowed": self.allowed,
            "default": self.default,
            "legal_basis": self.legal_basis,
            "since": e.occurred_at if e else None,
            "channel": e.channel if e else None,
            "source": e.source if e else "default",
            "subject_type": e.subject_type if e else None,
            "entry_id": e.id if e else None,
        }


def _order(e: ConsentEntry) -> tuple[datetime, int, int]:
    # newest last; at equal times a restrictive entry sorts after a grant (stricter wins)
    return e.occurred_at, 1 if e.status in RESTRICTIVE else 0, e.id


def purpose_state(
    purpose: str,
    entries: Iterable[ConsentEntry],
    default: str,
    legal_basis: str = "consent",
) -> PurposeState:
    """Apply the rule of the module docstring to the entries of one purpose."""
    heads: dict[tuple[str, str], ConsentEntry] = {}
    for e in entries:
        if e.purpose != purpose:
            continue
        known = heads.get(e.thread)
        if known is None or _order(e) > _order(known):
            heads[e.thread] = e
    if not heads:
        return PurposeState(purpose, default, True, legal_basis)
    ordered = sorted(heads.values(), key=_order)
    statuses = {e.status for e in ordered}
    if len(statuses) == 1:
        return PurposeState(purpose, ordered[-1].status, False, legal_basis, ordered[-1])
    strict = [e for e in ordered if e.status in RESTRICTIVE]
    newest_strict = strict[-1]
    grants = [e for e in ordered if e.status == "granted"]
    conflicting = tuple(e for e in ordered if e.status != ordered[-1].status)
    if grants and _later(grants[-1], newest_strict):
        return PurposeState(purpose, "granted", False, legal_basis, grants[-1], conflicting)
    return PurposeState(
        purpose, newest_strict.status, False, legal_basis, newest_strict, conflicting
    )


def _later(a: ConsentEntry, b: ConsentEntry) -> bool:
    return a.occurred_at > b.occurred_at


def profile_state(
    entries: Iterable[ConsentEntry],
    purposes: Mapping[str, tuple[str, str]],
) -> dict[str, PurposeState]:
    """The state of every configured purpose: `purposes` maps name → (default, legal basis)."""
    listed = list(entries)
    return {
        name: purpose_state(name, listed, default, basis)
        for name, (default, basis) in sorted(purposes.items())
    }
