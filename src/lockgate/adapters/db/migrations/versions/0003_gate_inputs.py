"""gate inputs: done reports, patch sets by parent

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "gate_reports",
        sa.Column("report_id", sa.String(length=255), nullable=False),
        sa.Column("done_at", sa.BigInteger(), nullable=False),
        sa.Column("merged", sa.Boolean(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("report_id", name=op.f("pk_gate_reports")),
    )
    # The changes that sit on a commit (its git children), for the gate's
    # enqueueing of changes behind one that enters it.
    with op.batch_alter_table("patch_sets", schema=None) as batch_op:
        batch_op.create_index("ix_patch_sets_parents", ["parents"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("patch_sets", schema=None) as batch_op:
        batch_op.drop_index("ix_patch_sets_parents")
    op.drop_table("gate_reports")
