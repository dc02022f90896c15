"""Delivery leases (two workers never forward the same event) and credential versions (a 401
found by a poll that began before a new sign-in leaves the trigger active).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-20
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    # Existing connections start at version 0; every trigger starts unleased.
    op.add_column("connections", sa.Column("credentials_version", sa.Integer(), server_default="0", nullable=False))
    op.add_column("triggers", sa.Column("lease_credentials", sa.Integer(), nullable=True))
    op.add_column("triggers", sa.Column("delivery_owner", sa.String(length=64), nullable=True))
    op.add_column("triggers", sa.Column("delivery_expires_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    # batch mode: SQLite before 3.35 cannot drop a column in place.
    with op.batch_alter_table("triggers") as batch:
        batch.drop_column("delivery_expires_at")
        batch.drop_column("delivery_owner")
        batch.drop_column("lease_credentials")
    with op.batch_alter_table("connections") as batch:
        batch.drop_column("credentials_version")
