"""The consent state rule: default, agreement, stricter wins, a later explicit grant wins."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ucp.domain.consent import ConsentEntry, parse_status, profile_state, purpose_state


def at(hour: int) -> datetime:
    return datetime(2026, 5, 1, hour, tzinfo=UTC)


def entry(
    subject: str, status: str, hour: int, purpose: str = "email_marketing", n: int = 0
) -> ConsentEntry:
    typ, _, value = subject.partition(":")
    return ConsentEntry(typ, value, purpose, status, at(hour), id=n or hour)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("granted", "granted"),
        ("Subscribed", "granted"),
        ("yes", "granted"),
        (True, "granted"),
        ("unsubscribed", "withdrawn"),
        ("opt-out", "withdrawn"),
        ("no", "denied"),
        ("pending", None),
        (None, None),
    ],
)
def test_status_words_are_understood(raw: object, expected: str | None) -> None:
    assert parse_status(raw) == expected


def test_a_source_mapping_comes_before_the_common_words() -> None:
    assert parse_status("Y", {"y": "withdrawn"}) == "withdrawn"


def test_no_entry_means_the_configured_default() -> None:
    state = purpose_state("analytics", [], "granted", "legitimate_interests")
    assert (state.status, state.default, state.decided_by) == ("granted", True, None)


def test_the_newest_entry_of_a_subject_is_its_state() -> None:
    entries = [entry("email:a", "granted", 9), entry("email:a", "withdrawn", 10)]
    assert purpose_state("email_marketing", entries, "denied").status == "withdrawn"


def test_merged_histories_stricter_state_wins() -> None:
    """Two merged profiles: one withdrew at 10:00, the other granted earlier → withdrawn."""
    entries = [entry("email:ann", "withdrawn", 10), entry("crm_id:1", "granted", 9)]
    state = purpose_state("email_marketing", entries, "denied")
    assert state.status == "withdrawn"
    assert [e.subject for e in state.conflicting] == ["1"]


def test_merged_histories_a_later_explicit_grant_wins() -> None:
    entries = [entry("email:ann", "withdrawn", 10), entry("crm_id:1", "granted", 11)]
    assert purpose_state("email_marketing", entries, "denied").status == "granted"


def test_at_equal_times_the_stricter_state_wins() -> None:
    entries = [entry("email:ann", "granted", 10, n=2), entry("crm_id:1", "denied", 10, n=1)]
    assert purpose_state("email_marketing", entries, "granted").status == "denied"


def test_a_regrant_on_one_subject_beats_an_older_denial_on_another() -> None:
    entries = [
        entry("email:ann", "withdrawn", 8),
        entry("email:ann", "granted", 12),
        entry("phone:+44", "denied", 10),
    ]
    state = purpose_state("email_marketing", entries, "denied")
    assert state.status == "granted"
    assert state.decided_by is not None and state.decided_by.occurred_at == at(12)


def test_profile_state_covers_every_purpose() -> None:
    states = profile_state(
        [entry("email:a", "granted", 9)],
        {
            "email_marketing": ("denied", "consent"),
            "analytics": ("granted", "legitimate_interests"),
        },
    )
    assert {k: v.status for k, v in states.items()} == {
        "analytics": "granted",
        "email_marketing": "granted",
    }
    assert states["analytics"].to_dict()["source"] == "default"
