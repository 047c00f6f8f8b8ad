"""Retention: expired records and events go, profiles re-cluster, the run is audited."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tests.privacy_support import config, events_ingestor, load_people, segment, track_ann

from ucp.domain.retention import parse_period
from ucp.services import audit
from ucp.services.retention import apply_retention
from ucp.store.store import Store, now


def test_periods_parse() -> None:
    assert parse_period("90d") == timedelta(days=90)
    assert parse_period("2y") == timedelta(days=730)


def test_nothing_expired_yet_is_kept(store: Store, tmp_path: Path) -> None:
    load_people(store, config(), tmp_path)
    report = apply_retention(store, config(), now())
    assert (report.records, report.events) == (0, 0)


def test_expired_web_data_goes_and_the_rest_stays(store: Store, tmp_path: Path) -> None:
    cfg = config()
    load_people(store, cfg, tmp_path)
    segment(events_ingestor(store, cfg), [track_ann(9)])  # a Page Viewed (7 days)
    with store.read() as tx:
        before = tx.counts()
    dry = apply_retention(store, cfg, now() + timedelta(days=10), dry_run=True)
    assert (dry.records, dry.events) == (0, 1)
    later = now() + timedelta(days=40)
    report = apply_retention(store, cfg, later)
    # the web identify record (30 days) and both web events; orders have no period
    assert (report.records, report.events) == (1, 2)
    with store.read() as tx:
        after = tx.counts()
        assert tx.profiles_by_identifier("user_id", "user-ann-1") == []
        assert tx.profiles_by_identifier("email", "annabel.quintero@bluewren.co.uk")
        actions = [e["action"] for e in tx.audit_entries()]
    assert after["records"] == before["records"] - 1
    assert after["events"] == before["events"] - 2
    assert "retention.applied" in actions and audit.verify(store).ok
