"""The one schema, for SQLite and PostgreSQL alike (SQLAlchemy Core).

Records are versioned (`record_versions` keeps every version, `records` points at the current one
and at the profile that owns it); links, constraints, the audit log and the change feed are
append-only.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# BigInteger ids that still autoincrement on SQLite (which only does so for INTEGER PRIMARY KEY).
Id = BigInteger().with_variant(Integer(), "sqlite")

sources = Table(
    "sources",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("trust_rank", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

profiles = Table(
    "profiles",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("record_count", Integer, nullable=False, default=0),
)

profile_aliases = Table(
    "profile_aliases",
    metadata,
    Column("alias", String(32), primary_key=True),
    Column("profile_id", String(32), nullable=False, index=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

records = Table(
    "records",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("source", String(64), ForeignKey("sources.name"), nullable=False),
    Column("source_key", String(256), nullable=False),
    Column("version", Integer, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("attributes", JSON, nullable=False),
    Column("profile_id", String(32), nullable=True, index=True),
    Column("first_seen", DateTime(timezone=True), nullable=False),
    Column("last_seen", DateTime(timezone=True), nullable=False),
    # set when the source retracted the record (`ucp records delete`); history stays
    Column("deleted_at", DateTime(timezone=True), nullable=True),
    UniqueConstraint("source", "source_key", name="uq_records_source_key"),
)

record_versions = Table(
    "record_versions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("record_id", Id, ForeignKey("records.id", ondelete="CASCADE"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("raw", JSON, nullable=False),
    Column("attributes", JSON, nullable=False),
    Column("valid_from", DateTime(timezone=True), nullable=False),
    Column("valid_to", DateTime(timezone=True), nullable=True),
    UniqueConstraint("record_id", "version", name="uq_record_versions_record_version"),
)

identifiers = Table(
    "identifiers",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("record_id", Id, ForeignKey("records.id", ondelete="CASCADE"), nullable=False),
    Column("type", String(32), nullable=False),
    Column("value", String(320), nullable=False),
    Column("linkable", Boolean, nullable=False),
    Index("ix_identifiers_type_value", "type", "value"),
    Index("ix_identifiers_record_id", "record_id"),
)

links = Table(
    "links",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("record_a", Id, nullable=False),
    Column("record_b", Id, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("weight", Float, nullable=True),
    Column("evidence", JSON, nullable=False),
    Column("model_version", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("valid_to", DateTime(timezone=True), nullable=True),
    Index("ix_links_record_a", "record_a"),
    Index("ix_links_record_b", "record_b"),
)

events = Table(
    "events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("source", String(64), ForeignKey("sources.name"), nullable=False),
    Column("event_key", String(256), nullable=False),
    Column("name", String(128), nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=True),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("identifiers", JSON, nullable=False),
    Column("properties", JSON, nullable=False),
    Column("profile_id", String(32), nullable=True, index=True),
    UniqueConstraint("source", "event_key", name="uq_events_source_key"),
    Index("ix_events_occurred_at", "occurred_at"),
)

event_identifiers = Table(
    "event_identifiers",
    metadata,
    Column("event_id", Id, ForeignKey("events.id", ondelete="CASCADE"), nullable=False),
    Column("type", String(32), nullable=False),
    Column("value", String(320), nullable=False),
    Index("ix_event_identifiers_type_value", "type", "value"),
    Index("ix_event_identifiers_event_id", "event_id"),
)

consent = Table(
    "consent",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("subject_type", String(32), nullable=False),
    Column("subject", String(320), nullable=False),
    Column("purpose", String(64), nullable=False),
    Column("channel", String(32), nullable=True),
    Column("status", String(16), nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("source", String(64), nullable=False),
    Column("evidence", JSON, nullable=False),
    Index("ix_consent_subject", "subject_type", "subject"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("action", String(64), nullable=False),
    Column("subject", String(128), nullable=True),
    Column("request_id", String(64), nullable=True),
    Column("details", JSON, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

changes = Table(
    "changes",
    metadata,
    Column("seq", Id, primary_key=True, autoincrement=True),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("type", String(32), nullable=False),
    Column("profile_id", String(32), nullable=True, index=True),
    Column("data", JSON, nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(128), nullable=False),
    Column("role", String(16), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=True),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
)

# -- resolution model, blocking and review (issue 5) --------------------------------------------
models = Table(
    "models",
    metadata,
    Column("version", String(64), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("body", JSON, nullable=False),
    Column("report", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("active", Boolean, nullable=False, default=False),
)

blocking_keys = Table(
    "blocking_keys",
    metadata,
    Column("record_id", Id, ForeignKey("records.id", ondelete="CASCADE"), nullable=False),
    Column("key", String(320), nullable=False),
    Index("ix_blocking_keys_key", "key"),
    Index("ix_blocking_keys_record_id", "record_id"),
)

review_items = Table(
    "review_items",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("record_a", Id, nullable=False),
    Column("record_b", Id, nullable=False),
    Column("probability", Float, nullable=False),
    Column("weight", Float, nullable=False),
    Column("evidence", JSON, nullable=False),
    Column("model_version", String(64), nullable=False),
    Column("status", String(16), nullable=False),  # open | accepted | rejected | obsolete
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("decided_at", DateTime(timezone=True), nullable=True),
    Column("decided_by", String(128), nullable=True),
    UniqueConstraint("record_a", "record_b", "model_version", name="uq_review_items_pair"),
    Index("ix_review_items_status_probability", "status", "probability"),
    Index("ix_review_items_record_b", "record_b"),  # (record_a is led by the unique index)
)

# -- stewardship and history (issue 6) ------------------------------------------------------------
constraints = Table(
    "constraints",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),  # must_link | cannot_link
    Column("source_a", String(64), nullable=False),
    Column("key_a", String(256), nullable=False),
    Column("source_b", String(64), nullable=False),
    Column("key_b", String(256), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("reason", Text, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    Column("revoked_by", String(128), nullable=True),
    Index("ix_constraints_a", "source_a", "key_a"),
    Index("ix_constraints_b", "source_b", "key_b"),
)

pins = Table(
    "pins",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("profile_id", String(32), nullable=False, index=True),
    Column("attribute", String(64), nullable=False),
    Column("value", Text, nullable=False),
    Column("actor", String(128), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
)

memberships = Table(
    "memberships",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("record_id", Id, nullable=False),
    Column("profile_id", String(32), nullable=False),
    Column("valid_from", DateTime(timezone=True), nullable=False),
    Column("valid_to", DateTime(timezone=True), nullable=True),
    Index("ix_memberships_profile_id", "profile_id"),
    Index("ix_memberships_record_id", "record_id"),
)

# -- real time (issue 7) --------------------------------------------------------------------------
inbox = Table(
    "inbox",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("source", String(64), nullable=False),
    Column("message_id", String(256), nullable=False),
    Column("type", String(16), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("status", String(16), nullable=False),  # pending | applied | failed
    Column("applied_at", DateTime(timezone=True), nullable=True),
    Column("error", Text, nullable=True),
    Column("attempts", Integer, nullable=False, default=0),
    UniqueConstraint("source", "message_id", name="uq_inbox_source_message_id"),
    Index("ix_inbox_status_id", "status", "id"),
)

# one row per profile: every computed trait's value, and the incremental state of each
# aggregate (domain/trait_state.py), read and written together by the worker
profile_traits = Table(
    "profile_traits",
    metadata,
    Column("profile_id", String(32), primary_key=True),
    Column("trait_values", JSON, nullable=False),
    Column("trait_states", JSON, nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

group_memberships = Table(
    "group_memberships",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("source", String(64), nullable=False),
    Column("group_id", String(256), nullable=False),
    Column("identifier_type", String(32), nullable=False),
    Column("identifier_value", String(320), nullable=False),
    Column("traits", JSON, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint(
        "source",
        "group_id",
        "identifier_type",
        "identifier_value",
        name="uq_group_memberships_member",
    ),
)

# -- privacy (issue 8) ----------------------------------------------------------------------------
suppressions = Table(
    "suppressions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("identifier_type", String(32), nullable=False),
    Column("value_hash", String(64), nullable=False),
    Column("request_id", String(64), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("lifted_at", DateTime(timezone=True), nullable=True),
    Column("lifted_by", String(128), nullable=True),
    Index("ix_suppressions_type_hash", "identifier_type", "value_hash"),
)

privacy_requests = Table(
    "privacy_requests",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("type", String(16), nullable=False),  # access | erasure | rectification
    Column("subject", String(320), nullable=False),
    Column("status", String(16), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("completed_at", DateTime(timezone=True), nullable=True),
    Column("result", JSON, nullable=False),
)

# -- search (issue 6) -----------------------------------------------------------------------------
search_terms = Table(
    "search_terms",
    metadata,
    Column("record_id", Id, ForeignKey("records.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(8), nullable=False),  # name | email | phone
    # bytewise order on PostgreSQL too, so prefix ranges mean what they say
    Column("term", String(320).with_variant(String(320, collation="C"), "postgresql"),
           nullable=False),
    Index("ix_search_terms_kind_term", "kind", "term"),
    Index("ix_search_terms_record_id", "record_id"),
)

# -- incremental resolution state (issue 5) -------------------------------------------------------
# Per resolved record: its base features (so candidates are read, not rebuilt from attributes;
# valid while `features_key` = "<features version>:<content hash>" matches) and its resolution
# group (`component`: the smallest record id of the group) under `model_version`.
resolution_state = Table(
    "resolution_state",
    metadata,
    Column("record_id", Id, ForeignKey("records.id", ondelete="CASCADE"), primary_key=True),
    Column("features_key", String(96), nullable=False),
    Column("features", JSON, nullable=False),
    Column("component", Id, nullable=False),
    Column("model_version", String(64), nullable=False),
    Index("ix_resolution_state_component", "component"),
)
