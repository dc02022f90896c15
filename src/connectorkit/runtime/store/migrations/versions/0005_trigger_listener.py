"""Which ``connectorkit listen`` process made (and runs) a trigger, so that a listener killed
without stopping cleanly can be resumed by the next one, and a durable trigger never is.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-13
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    # Nullable: triggers made before this revision, and every durable trigger (API, console,
    # `trigger` commands), have none.
    op.add_column("triggers", sa.Column("listener", sa.String(length=64), nullable=True))


def downgrade() -> None:
    # batch mode: SQLite before 3.35 cannot drop a column in place.
    with op.batch_alter_table("triggers") as batch:
        batch.drop_column("listener")
