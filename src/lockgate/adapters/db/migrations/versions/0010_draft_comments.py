"""draft comments: inline comments kept for their author until a review publishes them

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "draft_comments",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("change_number", sa.Integer(), nullable=False),
        sa.Column("patch_set", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("side", sa.String(length=16), nullable=False),
        sa.Column("parent_number", sa.Integer(), nullable=True),
        sa.Column("line", sa.Integer(), nullable=True),
        sa.Column("start_line", sa.Integer(), nullable=True),
        sa.Column("start_character", sa.Integer(), nullable=True),
        sa.Column("end_line", sa.Integer(), nullable=True),
        sa.Column("end_character", sa.Integer(), nullable=True),
        sa.Column("in_reply_to", sa.String(length=64), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("unresolved", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["accounts.id"], name="fk_draft_comments_author_id_accounts"
        ),
        sa.ForeignKeyConstraint(
            ["change_number"], ["changes.number"], name="fk_draft_comments_change_number_changes"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_draft_comments"),
    )
    op.create_index(
        "ix_draft_comments_change_number_author_id",
        "draft_comments",
        ["change_number", "author_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_draft_comments_change_number_author_id", table_name="draft_comments")
    op.drop_table("draft_comments")
