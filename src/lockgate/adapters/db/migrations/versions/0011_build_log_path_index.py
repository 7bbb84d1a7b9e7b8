"""builds by log folder: which build a served log file belongs to

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_gate_builds_log_path", "gate_builds", ["log_path"])


def downgrade() -> None:
    op.drop_index("ix_gate_builds_log_path", table_name="gate_builds")
