"""The redirect URI a connection was signed in with, for refresh requests that send it again.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    # Nullable: connections made before this revision (or without a sign-in) have none.
    op.add_column("connections", sa.Column("redirect_uri", sa.Text(), nullable=True))


def downgrade() -> None:
    # batch mode: SQLite before 3.35 cannot drop a column in place.
    with op.batch_alter_table("connections") as batch:
        batch.drop_column("redirect_uri")
