"""Grid flags hold several codes, comma-separated (out_of_band,crosses_major_road,not_compact).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

TABLES = ("grids", "grid_proposal_grids")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.alter_column(
                "flag", existing_type=sa.String(40), type_=sa.String(160), existing_nullable=True
            )


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.alter_column(
                "flag", existing_type=sa.String(160), type_=sa.String(40), existing_nullable=True
            )
