"""the gating scheduler: cursor, tenant state, build sets and builds

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "gate_cursor",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_gate_cursor")),
    )
    op.create_table(
        "gate_state",
        sa.Column("tenant", sa.String(length=255), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("updated", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant", name=op.f("pk_gate_state")),
    )
    op.create_table(
        "gate_buildsets",
        sa.Column("uuid", sa.String(length=64), nullable=False),
        sa.Column("tenant", sa.String(length=255), nullable=False),
        sa.Column("pipeline", sa.String(length=255), nullable=False),
        sa.Column("project", sa.String(length=255), nullable=False),
        sa.Column("branch", sa.String(length=255), nullable=False),
        sa.Column("ref", sa.String(length=1024), nullable=False),
        sa.Column("change", sa.Integer(), nullable=True),
        sa.Column("patchset", sa.Integer(), nullable=True),
        sa.Column("oldrev", sa.String(length=64), nullable=True),
        sa.Column("newrev", sa.String(length=64), nullable=True),
        sa.Column("result", sa.String(length=32), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("created", sa.BigInteger(), nullable=False),
        sa.Column("updated", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("uuid", name=op.f("pk_gate_buildsets")),
    )
    op.create_index("ix_gate_buildsets_tenant_created", "gate_buildsets", ["tenant", "created"])
    op.create_index("ix_gate_buildsets_change", "gate_buildsets", ["change", "patchset"])
    op.create_table(
        "gate_builds",
        sa.Column("uuid", sa.String(length=64), nullable=False),
        sa.Column("buildset", sa.String(length=64), nullable=False),
        sa.Column("tenant", sa.String(length=255), nullable=False),
        sa.Column("pipeline", sa.String(length=255), nullable=False),
        sa.Column("job", sa.String(length=255), nullable=False),
        sa.Column("project", sa.String(length=255), nullable=False),
        sa.Column("branch", sa.String(length=255), nullable=False),
        sa.Column("ref", sa.String(length=1024), nullable=False),
        sa.Column("change", sa.Integer(), nullable=True),
        sa.Column("patchset", sa.Integer(), nullable=True),
        sa.Column("changes", sa.Text(), nullable=False),
        sa.Column("voting", sa.Boolean(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("result", sa.String(length=32), nullable=True),
        sa.Column("log_url", sa.String(length=2048), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("queued", sa.BigInteger(), nullable=False),
        sa.Column("started", sa.BigInteger(), nullable=True),
        sa.Column("ended", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("uuid", name=op.f("pk_gate_builds")),
    )
    op.create_index("ix_gate_builds_tenant_queued", "gate_builds", ["tenant", "queued"])
    op.create_index("ix_gate_builds_buildset", "gate_builds", ["buildset"])
    op.create_index("ix_gate_builds_job", "gate_builds", ["tenant", "job"])


def downgrade() -> None:
    op.drop_table("gate_builds")
    op.drop_table("gate_buildsets")
    op.drop_table("gate_state")
    op.drop_table("gate_cursor")
