"""Shared data for the privacy tests: a config with consent, retention and a segment source, and
two people (Ann and Bob) wrongly merged through a shared family phone."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Text, cast, func, or_, select

from ucp.config import UCPConfig, parse_config
from ucp.services.ingest import IngestReport, RejectWriter, SourceIngestor, ingest_file
from ucp.store import tables as t
from ucp.store.store import Store

SECRET = b"test-secret-0123456789abcdef"

CONFIG = """
version: 1
resolution: {engine: deterministic}   # links on the shared family phone: a wrong merge
identifiers:
  email: {max_per_profile: 3, priority: 10, blocked: [test@test.com]}
  phone: {max_per_profile: 3, priority: 20}
  crm_id: {}
  user_id: {}
  anonymous_id: {}
consent:
  purposes:
    email_marketing: {default: denied, legal_basis: consent, channels: [email]}
    analytics: {default: granted, legal_basis: legitimate_interests}
sources:
  crm:
    kind: records
    trust_rank: 1
    default_country: GB
    source_key: id
    mapping: {given_name: first, family_name: last, email: email, phone: phone,
              birth_date: dob, street: street, postcode: postcode}
    identifiers: {email: email, phone: phone, crm_id: id}
  newsletter:
    kind: records
    trust_rank: 3
    source_key: email
    mapping: {email: email}
    identifiers: {email: email}
    consent: {purpose: email_marketing, channel: email, status: status, time: consent_at,
              subject: email, evidence: [form],
              status_values: {subscribed: granted, unsubscribed: withdrawn}}
  orders:
    kind: events
    source_key: order_id
    event: {name: Order Completed, timestamp: created_at}
    identifiers: {crm_id: customer_id}
  web:
    kind: segment
    source_key: userId
    write_key: wk_web
    default_country: GB
    mapping: {email: traits.email, given_name: traits.first_name, phone: traits.phone}
    identifiers: {email: traits.email, phone: traits.phone, user_id: userId,
                  anonymous_id: anonymousId}
retention:
  sources: {web: 30d}
  events: {Page Viewed: 7d}
"""

# Ann and Bob share the family phone, so deterministic resolution makes them one profile.
CRM = [
    {
        "id": "C1",
        "first": "Annabel",
        "last": "Quintero",
        "email": "Annabel.Quintero@Bluewren.co.uk",
        "phone": "+44 20 7946 0958",
        "dob": "1985-03-07",
        "street": "12 Larkspur Lane",
        "postcode": "SW1A 1AA",
    },
    {
        "id": "C2",
        "first": "Bartholomew",
        "last": "Quintero",
        "email": "bart.q@bluewren.co.uk",
        "phone": "+44 20 7946 0958",
        "dob": "1983-11-30",
        "street": "12 Larkspur Lane",
        "postcode": "SW1A 1AA",
    },
    {
        "id": "C3",
        "first": "Annabel",
        "last": "Quintero",
        "email": "",
        "phone": "+44 7700 900123",
        "dob": "",
        "street": "",
        "postcode": "",
    },
    {
        "id": "C4",
        "first": "Cyrus",
        "last": "Vandermeer",
        "email": "cyrus@heathmail.co.uk",
        "phone": "+44 7700 900777",
        "dob": "1990-01-01",
        "street": "1 Elm Row",
        "postcode": "EH1 1AA",
    },
]
# C3 is Annabel's second CRM record: it carries only her mobile, which her web identify also
# carries, so it shares identifiers only with her records.
ANN_RAW = [
    "Annabel.Quintero@Bluewren.co.uk",
    "annabel.quintero@bluewren.co.uk",
    "Annabel",
    "1985-03-07",
    "+447700900123",
    "+44 7700 900123",
    "anon-ann-7f3e",
    "user-ann-1",
]
ANN_EMAIL = "email:annabel.quintero@bluewren.co.uk"


def config() -> UCPConfig:
    return parse_config(CONFIG)


def write_csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def events_ingestor(store: Store, cfg: UCPConfig, secret: bytes | None = SECRET) -> SourceIngestor:
    """The web source keyed by messageId, as the collector's worker ingests track events."""
    sources = dict(cfg.sources)
    sources["web"] = sources["web"].model_copy(update={"source_key": "messageId"})
    return SourceIngestor(store, cfg.model_copy(update={"sources": sources}), "web", secret=secret)


def segment(ingestor: SourceIngestor, messages: list[dict[str, Any]]) -> IngestReport:
    """Feed Segment messages through the shared ingest path (as the collector's worker does)."""
    report = IngestReport(ingestor.name)
    ingestor.ingest_chunk(list(enumerate(messages)), report, RejectWriter(None))
    return report


def identify_ann(n: int = 0) -> dict[str, Any]:
    return {
        "type": "identify",
        "messageId": f"m-id-{n}",
        "userId": "user-ann-1",
        "anonymousId": "anon-ann-7f3e",
        "timestamp": "2026-05-01T10:00:00Z",
        "traits": {
            "email": "Annabel.Quintero@Bluewren.co.uk",
            "first_name": "Annabel",
            "phone": "+44 7700 900123",
        },
    }


def track_ann(n: int, event: str = "Page Viewed", **props: Any) -> dict[str, Any]:
    return {
        "type": "track",
        "messageId": f"m-tr-{n}",
        "userId": "user-ann-1",
        "anonymousId": "anon-ann-7f3e",
        "event": event,
        "timestamp": datetime.now(UTC).isoformat(),
        "properties": props,
    }


def load_people(store: Store, cfg: UCPConfig, tmp: Path, secret: bytes | None = SECRET) -> None:
    """Ann (CRM, newsletter, orders, web), Bob (CRM, orders) and Cyrus (CRM)."""
    ingest_file(store, cfg, "crm", write_csv(tmp / "crm.csv", CRM), secret=secret)
    ingest_file(
        store,
        cfg,
        "newsletter",
        write_csv(
            tmp / "news.csv",
            [
                {
                    "email": "annabel.quintero@bluewren.co.uk",
                    "status": "subscribed",
                    "consent_at": "2026-01-01T09:00:00Z",
                    "form": "f-17",
                },
                {
                    "email": "bart.q@bluewren.co.uk",
                    "status": "unsubscribed",
                    "consent_at": "2026-01-02T09:00:00Z",
                    "form": "f-17",
                },
            ],
        ),
        secret=secret,
    )
    ingest_file(
        store,
        cfg,
        "orders",
        write_jsonl(
            tmp / "orders.jsonl",
            [
                {
                    "order_id": "o-1",
                    "customer_id": "C1",
                    "created_at": "2026-05-01T10:00:00Z",
                    "total": 42.5,
                    "email": "Annabel.Quintero@Bluewren.co.uk",
                },
                {
                    "order_id": "o-2",
                    "customer_id": "C2",
                    "created_at": "2026-05-02T10:00:00Z",
                    "total": 19.0,
                },
            ],
        ),
        secret=secret,
    )
    segment(SourceIngestor(store, cfg, "web", secret=secret), [identify_ann()])
    segment(events_ingestor(store, cfg, secret), [track_ann(1, "Product Viewed", sku="X-1")])


def find_everywhere(store: Store, needles: list[str]) -> list[tuple[str, str, str]]:
    """Every (table, column, needle) where a column's text (JSON included) contains a needle."""
    hits = []
    with store.read() as tx:
        for table in t.metadata.sorted_tables:
            for col in table.columns:
                text = func.lower(cast(col, Text))
                rows = tx.conn.execute(
                    select(text).where(or_(*(text.like(f"%{n.lower()}%") for n in needles)))
                ).scalars()
                for value in rows:
                    hits += [(table.name, col.name, n) for n in needles if n.lower() in value]
    return sorted(set(hits))
