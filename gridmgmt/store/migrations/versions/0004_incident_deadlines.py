"""Deadlines of the running stage on incidents and on each history row.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("deadline_stage", sa.String(16)))
        batch.add_column(sa.Column("deadline_at", sa.DateTime(timezone=True)))
    with op.batch_alter_table("incident_history") as batch:
        batch.add_column(sa.Column("deadline_stage", sa.String(16)))
        batch.add_column(sa.Column("deadline_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    with op.batch_alter_table("incident_history") as batch:
        batch.drop_column("deadline_at")
        batch.drop_column("deadline_stage")
    with op.batch_alter_table("incidents") as batch:
        batch.drop_column("deadline_at")
        batch.drop_column("deadline_stage")
