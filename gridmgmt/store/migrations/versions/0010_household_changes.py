"""Household changes made on visits (房屋台账 on 走访), and the households source ``visit``.

``household_changes`` keeps every confirmation or correction of a
building's households with the values it replaced, who made it, when, on
which patrol, and the client's idempotency key (unique per user).
``buildings.households_source`` may now be ``visit`` (confidence high).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from gridmgmt.store.types import UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

SOURCES_0009 = (
    "'ledger', 'address_ledger', 'compound_ledger', 'levels', 'height', 'default', 'estimated'"
)
SOURCES = f"'visit', {SOURCES_0009}"


def upgrade() -> None:
    with op.batch_alter_table("buildings") as batch:
        batch.drop_constraint("ck_buildings_households_source", type_="check")
        batch.create_check_constraint(
            "ck_buildings_households_source", f"households_source IN ({SOURCES})"
        )
    op.create_table(
        "household_changes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("building_id", sa.String(64), nullable=False, index=True),
        sa.Column("grid_code", sa.String(15), nullable=True),
        sa.Column("households", sa.Integer, nullable=False),
        sa.Column("population", sa.Integer, nullable=True),
        sa.Column("households_before", sa.Integer, nullable=False),
        sa.Column("population_before", sa.Integer, nullable=False),
        sa.Column("source_before", sa.String(16), nullable=False),
        sa.Column("grid_households_before", sa.Integer, nullable=True),
        sa.Column("grid_households_after", sa.Integer, nullable=True),
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("username", sa.String(64), nullable=False, index=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("patrol_id", sa.Integer, sa.ForeignKey("patrols.id"), nullable=True),
        sa.Column("idempotency_key", sa.String(100), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False, index=True),
        sa.UniqueConstraint("username", "idempotency_key", name="uq_household_changes_key"),
        sa.CheckConstraint("households >= 0", name="ck_household_changes_households"),
        sa.CheckConstraint(
            "population IS NULL OR population >= 0", name="ck_household_changes_population"
        ),
        sa.CheckConstraint("source IN ('visit')", name="ck_household_changes_source"),
    )
    op.create_index(
        "ix_household_changes_grid_created", "household_changes", ["grid_code", "created_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_household_changes_grid_created", table_name="household_changes")
    op.drop_table("household_changes")
    # counts confirmed on visits stay; they read as a building's own ledger count
    op.execute(
        "UPDATE buildings SET households_source = 'ledger' WHERE households_source = 'visit'"
    )
    with op.batch_alter_table("buildings") as batch:
        batch.drop_constraint("ck_buildings_households_source", type_="check")
        batch.create_check_constraint(
            "ck_buildings_households_source", f"households_source IN ({SOURCES_0009})"
        )
