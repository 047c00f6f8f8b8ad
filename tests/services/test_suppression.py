"""The suppression list: an erased person is not re-created by file ingest or by the collector's
path (`SourceIngestor` with a segment source), until an admin lifts the suppression."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.privacy_support import (
    ANN_EMAIL,
    CRM,
    SECRET,
    config,
    events_ingestor,
    identify_ann,
    load_people,
    segment,
    track_ann,
    write_csv,
)

from ucp.errors import ConfigError
from ucp.services import privacy, suppression
from ucp.services.ingest import SourceIngestor, ingest_file
from ucp.store.store import Store


@pytest.fixture
def erased(store: Store, tmp_path: Path) -> Store:
    load_people(store, config(), tmp_path)
    privacy.create_request(store, config(), "erasure", ANN_EMAIL, "cli:eve", secret=SECRET)
    return store


def ann_profiles(store: Store) -> list[str]:
    with store.read() as tx:
        return tx.profiles_by_identifier("email", "annabel.quintero@bluewren.co.uk")


def test_the_list_holds_keyed_hashes_only(erased: Store) -> None:
    rows = suppression.list_suppressions(erased)
    assert {r["identifier_type"] for r in rows} >= {"email", "phone", "user_id", "anonymous_id"}
    assert suppression.identifier_hash(SECRET, "email", "annabel.quintero@bluewren.co.uk") in {
        r["value_hash"] for r in rows
    }


def test_file_reingest_is_dropped_and_counted(erased: Store, tmp_path: Path) -> None:
    report = ingest_file(
        erased, config(), "crm", write_csv(tmp_path / "again.csv", CRM), secret=SECRET
    )
    assert report.suppressed == 2  # C1 (her email) and C3 (her mobile); C2 and C4 are known
    assert ann_profiles(erased) == []


def test_collector_path_drops_identify_and_track(erased: Store) -> None:
    cfg = config()
    identify = segment(SourceIngestor(erased, cfg, "web", secret=SECRET), [identify_ann(5)])
    track = segment(events_ingestor(erased, cfg), [track_ann(77)])
    assert (identify.suppressed, identify.inserted) == (1, 0)
    assert (track.suppressed, track.events_inserted) == (1, 0)
    with erased.read() as tx:
        assert tx.counts()["events"] == 1  # Bob's order only


def test_without_the_secret_ingest_refuses_instead_of_letting_them_back(
    erased: Store, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError, match="UCP_SECRET_KEY"):
        ingest_file(erased, config(), "crm", write_csv(tmp_path / "again.csv", CRM))


def test_lifting_by_identifier_lets_them_back_in(erased: Store, tmp_path: Path) -> None:
    cfg = config()
    for ident in (
        "email:Annabel.Quintero@Bluewren.co.uk",
        "phone:+447700900123",
        "crm_id:C1",
        "crm_id:C3",
    ):
        suppression.lift(erased, cfg, "cli:admin", identifier=ident, secret=SECRET)
    report = ingest_file(erased, cfg, "crm", write_csv(tmp_path / "again.csv", CRM), secret=SECRET)
    assert report.suppressed == 0 and report.inserted == 2
    assert len(ann_profiles(erased)) == 1
    lifted = suppression.list_suppressions(erased, include_lifted=True)
    assert sum(1 for r in lifted if r["lifted_by"] == "cli:admin") == 4


def test_the_real_time_worker_drops_suppressed_messages(erased: Store) -> None:
    """Through the collector's own worker (MessageApplier), not a hand-built ingestor."""
    from datetime import UTC, datetime

    from ucp.services.worker import Message, MessageApplier

    now_ = datetime.now(UTC)
    messages = [
        Message("web", m["messageId"], m["type"], m, now_)
        for m in (identify_ann(9), track_ann(99))
    ]
    with erased.read() as tx:
        before = tx.counts()
    MessageApplier(erased, config(), SECRET).apply_messages(messages)
    with erased.read() as tx:
        after = tx.counts()
    assert (after["records"], after["events"]) == (before["records"], before["events"])
    assert ann_profiles(erased) == []
