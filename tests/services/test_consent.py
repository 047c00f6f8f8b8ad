"""The consent ledger fed by files, events and the API; merge-aware state; enforcement in
reads and exports."""

from __future__ import annotations

import io
from pathlib import Path

import orjson
import pytest
from sqlalchemy import func, select
from tests.privacy_support import (
    SECRET,
    config,
    events_ingestor,
    load_people,
    segment,
    track_ann,
)

from ucp.errors import ConsentRequired, InputError
from ucp.services import consent, privacy, steward
from ucp.services.export import export_golden
from ucp.services.ingest import ingest_file
from ucp.store import tables as t
from ucp.store.store import Store


@pytest.fixture
def loaded(store: Store, tmp_path: Path) -> Store:
    load_people(store, config(), tmp_path)
    return store


def pid_of(store: Store, typ: str, value: str) -> str:
    with store.read() as tx:
        (pid,) = tx.profiles_by_identifier(typ, value)
    return pid


def entries(store: Store) -> int:
    with store.read() as tx:
        return int(tx.conn.execute(select(func.count()).select_from(t.consent)).scalar_one())


def test_file_source_fills_the_ledger_once_with_the_standardized_subject(
    loaded: Store, tmp_path: Path
) -> None:
    with loaded.read() as tx:
        rows = [
            dict(r) for r in tx.conn.execute(select(t.consent).order_by(t.consent.c.id)).mappings()
        ]
    assert [(r["subject_type"], r["subject"], r["status"]) for r in rows] == [
        ("email", "annabel.quintero@bluewren.co.uk", "granted"),
        ("email", "bart.q@bluewren.co.uk", "withdrawn"),
    ]
    assert rows[0]["evidence"] == {
        "record": "newsletter:annabel.quintero@bluewren.co.uk",
        "form": "f-17",
    }
    assert rows[0]["occurred_at"].year == 2026 and rows[0]["channel"] == "email"
    ingest_file(loaded, config(), "newsletter", tmp_path / "news.csv", secret=SECRET)
    assert entries(loaded) == 2  # re-ingesting the same file adds nothing


def test_consent_updated_events_are_entries(loaded: Store) -> None:
    ingestor = events_ingestor(loaded, config())
    segment(
        ingestor,
        [
            track_ann(
                50,
                "Consent Updated",
                purpose="email_marketing",
                status="withdrawn",
                channel="email",
            )
        ],
    )
    assert entries(loaded) == 3
    pid = pid_of(loaded, "user_id", "user-ann-1")
    state = consent.profile_consent(loaded, config(), pid)["purposes"]["email_marketing"]
    # on the event's highest-priority identifier (equal priorities: by type name)
    assert (state["status"], state["subject_type"]) == ("withdrawn", "anonymous_id")


def test_merge_brings_histories_together_and_the_stricter_state_wins(loaded: Store) -> None:
    """Ann (granted 1 Jan) and Bob (withdrawn 2 Jan) share a phone: one profile, withdrawn;
    split them and each has their own state again."""
    cfg = config()
    shared = pid_of(loaded, "email", "annabel.quintero@bluewren.co.uk")
    assert (
        consent.profile_consent(loaded, cfg, shared)["purposes"]["email_marketing"]["status"]
        == "withdrawn"
    )
    steward.split(loaded, cfg, shared, ["crm:C2", "newsletter:bart.q@bluewren.co.uk"], "t")
    ann = pid_of(loaded, "email", "annabel.quintero@bluewren.co.uk")
    bob = pid_of(loaded, "email", "bart.q@bluewren.co.uk")
    with loaded.read() as tx:
        assert consent.consented_profiles(tx, cfg, "email_marketing", [ann, bob]) == {ann}


def test_api_entries_are_audited_and_a_later_grant_wins(loaded: Store) -> None:
    cfg = config()
    shared = pid_of(loaded, "email", "annabel.quintero@bluewren.co.uk")
    result = consent.record_consent(
        loaded,
        cfg,
        shared,
        "email_marketing",
        "granted",
        "key:k1",
        channel="email",
        evidence={"form": "f-99"},
    )
    assert result["status"] == "granted" and result["subject_type"] == "profile"
    history = consent.profile_consent(loaded, cfg, shared)["history"]
    assert [h["status"] for h in history] == ["granted", "withdrawn", "granted"]
    with pytest.raises(InputError):
        consent.record_consent(loaded, cfg, shared, "telepathy", "granted", "key:k1")
    with loaded.read() as tx:
        actions = [e["action"] for e in tx.audit_entries()]
    assert "consent.recorded" in actions


def test_reads_for_a_purpose_are_refused_without_consent(loaded: Store) -> None:
    cfg = config()
    cyrus = pid_of(loaded, "email", "cyrus@heathmail.co.uk")
    with pytest.raises(ConsentRequired):
        privacy.read_profile(loaded, cfg, cyrus, "t", purpose="email_marketing")
    assert privacy.read_profile(loaded, cfg, cyrus, "t", purpose="analytics")["id"] == cyrus


def test_export_holds_only_consenting_profiles(loaded: Store) -> None:
    cfg = config()
    cyrus = pid_of(loaded, "email", "cyrus@heathmail.co.uk")
    consent.record_consent(loaded, cfg, cyrus, "email_marketing", "granted", "t")
    buffer = io.StringIO()
    assert export_golden(loaded, cfg, "email_marketing", buffer, "jsonl") == 1
    (line,) = buffer.getvalue().splitlines()
    assert orjson.loads(line)["golden"]["family_name"] == "Vandermeer"
    csv_out = io.StringIO()
    assert export_golden(loaded, cfg, "analytics", csv_out, "csv") == 2  # default granted
    assert csv_out.getvalue().splitlines()[0].startswith("profile_id,")
