"""Pending OAuth sign-ins, shared by the CLI that begins one and the server that completes it.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "sign_ins",
        sa.Column("state", sa.String(length=64), nullable=False),
        sa.Column("connector", sa.String(length=255), nullable=False),
        sa.Column("parameter_set", sa.String(length=255), nullable=True),
        sa.Column("target_connection_id", sa.String(length=32), nullable=True),
        sa.Column("sealed", sa.LargeBinary(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("connection_id", sa.String(length=32), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("state", name=op.f("pk_sign_ins")),
    )
    op.create_index(op.f("ix_sign_ins_expires_at"), "sign_ins", ["expires_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_sign_ins_expires_at"), table_name="sign_ins")
    op.drop_table("sign_ins")
