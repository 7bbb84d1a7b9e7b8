"""build logs: where each build's logs are in the log store

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The folder in the log store, known from the build's start: the live
    # console reads it while the build runs, before there is a log URL.
    with op.batch_alter_table("gate_builds") as batch:
        batch.add_column(sa.Column("log_path", sa.String(length=1024), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("gate_builds") as batch:
        batch.drop_column("log_path")
