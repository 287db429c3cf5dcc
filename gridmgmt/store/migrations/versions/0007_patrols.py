"""Patrols, their points, the 民情日记 and incidents found on patrol.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

from gridmgmt.store.types import GeometryType, UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "patrols",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("worker", sa.String(64), nullable=False, index=True),
        sa.Column("grid_codes", sa.JSON, nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False, index=True),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.Column("measures", sa.JSON, nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("geom", GeometryType("LINESTRING"), nullable=True),
    )
    op.create_table(
        "patrol_points",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("patrol_id", sa.Integer, sa.ForeignKey("patrols.id"), nullable=False, index=True),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("t", UTCDateTime(), nullable=False),
        sa.Column("lon", sa.Float, nullable=False),
        sa.Column("lat", sa.Float, nullable=False),
        sa.Column("accuracy", sa.Float, nullable=True),
        sa.UniqueConstraint("patrol_id", "seq", name="uq_patrol_points_seq"),
    )
    op.create_table(
        "diary_entries",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("worker", sa.String(64), nullable=False, index=True),
        sa.Column("day", sa.Date, nullable=False, index=True),
        sa.Column("grid_code", sa.String(15), nullable=False, index=True),
        sa.Column("building_id", sa.String(64), nullable=True),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("photo_ids", sa.JSON, nullable=False),
        sa.Column("patrol_id", sa.Integer, sa.ForeignKey("patrols.id"), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "patrol_incidents",
        sa.Column("patrol_id", sa.Integer, sa.ForeignKey("patrols.id"), primary_key=True),
        sa.Column("incident_id", sa.Integer, sa.ForeignKey("incidents.id"), primary_key=True),
    )


def downgrade() -> None:
    for table in ("patrol_incidents", "diary_entries", "patrol_points", "patrols"):
        op.drop_table(table)
