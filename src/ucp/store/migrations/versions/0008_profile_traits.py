"""profile_traits: one row per profile (values and incremental states) replaces `traits`

The real-time worker reads and rewrites a profile's traits on every batch that reaches it; with
one row per trait that was nine reads, deletes and inserts per profile for the default traits.

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

from typing import Any

import orjson
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0006"
branch_labels = None
depends_on = None

_BATCH = 5000


def _json(value: Any) -> Any:
    return orjson.loads(value) if isinstance(value, (str, bytes)) else value


def upgrade() -> None:
    op.create_table(
        "profile_traits",
        sa.Column("profile_id", sa.String(32), primary_key=True),
        sa.Column("trait_values", sa.JSON, nullable=False),
        sa.Column("trait_states", sa.JSON, nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    conn = op.get_bind()
    old = sa.table("traits", sa.column("profile_id"), sa.column("name"), sa.column("value"),
                   sa.column("updated_at"))
    new = sa.table("profile_traits", sa.column("profile_id"), sa.column("trait_values", sa.JSON),
                   sa.column("trait_states", sa.JSON), sa.column("updated_at"))
    pending: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    rows = conn.execute(
        sa.select(old.c.profile_id, old.c.name, old.c.value, old.c.updated_at)
        .order_by(old.c.profile_id, old.c.name)
    ).all()

    def flush() -> None:  # the profiles gathered so far are complete (rows come by profile)
        for row in pending:
            row["trait_states"] = row["trait_states"] or None
        if pending:
            conn.execute(sa.insert(new), pending)
        pending.clear()

    for pid, name, value, at in rows:
        if current is None or current["profile_id"] != pid:
            if len(pending) >= _BATCH:
                flush()
            current = {"profile_id": pid, "trait_values": {}, "trait_states": {},
                       "updated_at": at}
            pending.append(current)
        value = _json(value)
        wrapped = isinstance(value, dict) and "v" in value
        current["trait_values"][name] = value["v"] if wrapped else value
        if wrapped and "s" in value:
            current["trait_states"][name] = value["s"]
        current["updated_at"] = max(current["updated_at"], at)
    flush()
    op.drop_table("traits")


def downgrade() -> None:
    op.create_table(
        "traits",
        sa.Column("profile_id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.JSON, nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    conn = op.get_bind()
    new = sa.table("profile_traits", sa.column("profile_id"), sa.column("trait_values"),
                   sa.column("trait_states"), sa.column("updated_at"))
    old = sa.table("traits", sa.column("profile_id"), sa.column("name"),
                   sa.column("value", sa.JSON), sa.column("updated_at"))
    out: list[dict[str, Any]] = []
    for pid, values, states, at in conn.execute(sa.select(new)).all():
        states = _json(states) or {}
        for name, value in sorted((_json(values) or {}).items()):
            wrapped = {"v": value, "s": states[name]} if name in states else {"v": value}
            out.append({"profile_id": pid, "name": name, "value": wrapped, "updated_at": at})
    for i in range(0, len(out), _BATCH):
        conn.execute(sa.insert(old), out[i : i + _BATCH])
    op.drop_table("profile_traits")
