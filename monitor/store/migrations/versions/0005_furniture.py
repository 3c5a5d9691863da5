"""furniture: sentences an outlet prints in many stories, learnt from repetition

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "furniture",
        sa.Column("outlet", sa.String(length=255), nullable=False),
        sa.Column("fingerprint", sa.String(length=16), nullable=False),
        sa.Column("stories", sa.Integer(), nullable=False),
        sa.Column("story_ids", sa.JSON(), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("outlet", "fingerprint", name=op.f("pk_furniture")),
    )
    op.create_index("ix_furniture_first_seen", "furniture", ["stories", "first_seen"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_furniture_first_seen", table_name="furniture")
    op.drop_table("furniture")
