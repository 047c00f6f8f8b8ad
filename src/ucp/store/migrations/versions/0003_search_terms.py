"""search terms for profile search by name, email and phone prefix

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "search_terms",
        sa.Column("record_id", Id, nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column(
            "term",
            sa.String(length=320).with_variant(sa.String(320, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["record_id"], ["records.id"], name=op.f("fk_search_terms_record_id_records"),
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_search_terms_kind_term", "search_terms", ["kind", "term"])
    op.create_index("ix_search_terms_record_id", "search_terms", ["record_id"])


def downgrade() -> None:
    op.drop_index("ix_search_terms_record_id", table_name="search_terms")
    op.drop_index("ix_search_terms_kind_term", table_name="search_terms")
    op.drop_table("search_terms")
