"""test nodes: nodes, node requests and autoholds

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
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
        "nodes",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=255), nullable=False),
        sa.Column("provider", sa.String(length=255), nullable=False),
        sa.Column("pool", sa.String(length=255), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("external_id", sa.String(length=1024), nullable=True),
        sa.Column("connection", sa.Text(), nullable=False),
        sa.Column("request", sa.String(length=64), nullable=True),
        sa.Column("launch_attempts", sa.Integer(), nullable=False),
        sa.Column("hold_autohold", sa.String(length=64), nullable=True),
        sa.Column("hold_reason", sa.Text(), nullable=False),
        sa.Column("hold_expires", sa.BigInteger(), nullable=True),
        sa.Column("created", sa.BigInteger(), nullable=False),
        sa.Column("state_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nodes")),
    )
    op.create_index("ix_nodes_state", "nodes", ["state"])
    op.create_index("ix_nodes_request", "nodes", ["request"])
    op.create_table(
        "node_requests",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("labels", sa.Text(), nullable=False),
        sa.Column("build", sa.String(length=255), nullable=False),
        sa.Column("precedence", sa.Integer(), nullable=False),
        sa.Column("relative_priority", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("nodes", sa.Text(), nullable=False),
        sa.Column("provider", sa.String(length=255), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_node_requests")),
    )
    op.create_index("ix_node_requests_state", "node_requests", ["state"])
    op.create_table(
        "autoholds",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("tenant", sa.String(length=255), nullable=False),
        sa.Column("project", sa.String(length=255), nullable=False),
        sa.Column("job", sa.String(length=255), nullable=False),
        sa.Column("ref_filter", sa.String(length=1024), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("held", sa.Integer(), nullable=False),
        sa.Column("node_expiration", sa.Integer(), nullable=True),
        sa.Column("created", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_autoholds")),
    )
    op.create_index("ix_autoholds_tenant", "autoholds", ["tenant"])


def downgrade() -> None:
    op.drop_table("autoholds")
    op.drop_table("node_requests")
    op.drop_table("nodes")
