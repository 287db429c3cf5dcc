"""Patrols and diary entries keep the phone's idempotency key, so an offline queue replays once.

``client_key`` holds the worker-scoped hash of the key the phone sent with
开始巡查 or a 民情日记 entry (as ``incidents.idempotency_key`` does for
reports): a replay of the same request finds the row stored the first time.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("patrols", "diary_entries"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("client_key", sa.String(64), nullable=True))
            batch.create_unique_constraint(f"uq_{table}_client_key", ["client_key"])


def downgrade() -> None:
    for table in ("patrols", "diary_entries"):
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(f"uq_{table}_client_key", type_="unique")
            batch.drop_column("client_key")
