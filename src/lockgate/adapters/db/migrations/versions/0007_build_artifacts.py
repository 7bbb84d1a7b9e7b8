"""build artifacts: what each build returned with zuul_return's zuul.artifacts

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # One row per artifact, in the order the build returned them, as Zuul's
    # zuul_artifact table: the builds API lists them with each build.
    op.create_table(
        "gate_build_artifacts",
        sa.Column("build", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("meta", sa.Text(), nullable=False),  # JSON object
        sa.PrimaryKeyConstraint("build", "position", name=op.f("pk_gate_build_artifacts")),
    )


def downgrade() -> None:
    op.drop_table("gate_build_artifacts")
