"""incremental resolution state: stored features and resolution group per record; review
items indexed by their second record

Revision ID: 0005
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0003"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "resolution_state",
        sa.Column("record_id", Id, nullable=False),
        sa.Column("features_key", sa.String(length=96), nullable=False),
        sa.Column("features", sa.JSON(), nullable=False),
        sa.Column("component", Id, nullable=False),
        sa.Column("model_version", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"], ["records.id"], name=op.f("fk_resolution_state_record_id_records"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("record_id", name=op.f("pk_resolution_state")),
    )
    op.create_index("ix_resolution_state_component", "resolution_state", ["component"])
    # replacing a record's review items looks them up by either end
    op.create_index("ix_review_items_record_b", "review_items", ["record_b"])


def downgrade() -> None:
    op.drop_index("ix_review_items_record_b", table_name="review_items")
    op.drop_index("ix_resolution_state_component", table_name="resolution_state")
    op.drop_table("resolution_state")
