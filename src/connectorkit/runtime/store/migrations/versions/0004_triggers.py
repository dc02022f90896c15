"""Durable triggers (polling cursors, webhook subscriptions, worker leases) and their events.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "triggers",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("connection_id", sa.String(length=32), nullable=False),
        sa.Column("connector", sa.String(length=255), nullable=False),
        sa.Column("operation_id", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("arguments", sa.JSON(), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("callback_digest", sa.String(length=64), nullable=True),
        sa.Column("target_url", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("next_due_at", sa.DateTime(), nullable=True),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_triggers_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_triggers")),
        sa.UniqueConstraint("callback_digest", name=op.f("uq_triggers_callback_digest")),
    )
    op.create_index(op.f("ix_triggers_connection_id"), "triggers", ["connection_id"], unique=False)
    op.create_index(op.f("ix_triggers_connector"), "triggers", ["connector"], unique=False)
    op.create_index(op.f("ix_triggers_next_due_at"), "triggers", ["next_due_at"], unique=False)
    op.create_table(
        "trigger_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trigger_id", sa.String(length=32), nullable=False),
        sa.Column("event_key", sa.String(length=255), nullable=False),
        sa.Column("body", sa.JSON(), nullable=True),
        sa.Column("problems", sa.JSON(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("delivered_at", sa.DateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["trigger_id"],
            ["triggers.id"],
            name=op.f("fk_trigger_events_trigger_id_triggers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trigger_events")),
        sa.UniqueConstraint("trigger_id", "event_key", name="uq_trigger_events_trigger_key"),
    )
    op.create_index(op.f("ix_trigger_events_trigger_id"), "trigger_events", ["trigger_id"], unique=False)
    op.create_index(op.f("ix_trigger_events_delivered_at"), "trigger_events", ["delivered_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_trigger_events_delivered_at"), table_name="trigger_events")
    op.drop_index(op.f("ix_trigger_events_trigger_id"), table_name="trigger_events")
    op.drop_table("trigger_events")
    op.drop_index(op.f("ix_triggers_next_due_at"), table_name="triggers")
    op.drop_index(op.f("ix_triggers_connector"), table_name="triggers")
    op.drop_index(op.f("ix_triggers_connection_id"), table_name="triggers")
    op.drop_table("triggers")
