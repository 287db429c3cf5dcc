"""Incidents: categories (loaded from data, editable), incidents, immutable history.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

from gridmgmt.store.types import GeometryType

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "incident_categories",
        sa.Column("code", sa.String(5), primary_key=True),
        sa.Column("family", sa.String(4), nullable=False),
        sa.Column("major_code", sa.String(2), nullable=False),
        sa.Column("major_name", sa.String(40), nullable=False),
        sa.Column("name", sa.String(60), nullable=False),
        sa.Column("name_en", sa.String(80), nullable=False),
        sa.Column("department", sa.String(60), nullable=False),
        sa.Column("register_min", sa.Integer, nullable=False),
        sa.Column("dispatch_min", sa.Integer, nullable=False),
        sa.Column("handle_limit", sa.Integer, nullable=False),
        sa.Column("handle_unit", sa.String(16), nullable=False),
        sa.Column("urgent_handle_limit", sa.Integer, nullable=False),
        sa.Column("urgent_handle_unit", sa.String(16), nullable=False),
        sa.Column("verify_min", sa.Integer, nullable=False),
        sa.Column("photo_required", sa.Boolean, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
    )
    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("number", sa.String(16), nullable=False, unique=True),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column(
            "category_code", sa.String(5), sa.ForeignKey("incident_categories.code"), nullable=False
        ),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("urgent", sa.Boolean, nullable=False),
        sa.Column("state", sa.String(24), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("grid_code", sa.String(15)),
        sa.Column("unassigned_reason", sa.String(40)),
        sa.Column("reporter", sa.String(64), nullable=False),
        sa.Column("department", sa.String(60)),
        sa.Column("address", sa.String(200)),
        sa.Column("idempotency_key", sa.String(80), unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("geom", GeometryType("POINT"), nullable=True),
    )
    op.create_index("ix_incidents_grid_code", "incidents", ["grid_code"])
    op.create_index("ix_incidents_state", "incidents", ["state"])
    op.create_table(
        "incident_history",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("incident_id", sa.Integer, sa.ForeignKey("incidents.id"), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("transition", sa.String(24), nullable=False),
        sa.Column("from_state", sa.String(24)),
        sa.Column("to_state", sa.String(24), nullable=False),
        sa.Column("note", sa.Text),
        sa.Column("photo_ids", sa.JSON, nullable=False),
        sa.Column("geom", GeometryType("POINT"), nullable=True),
        sa.UniqueConstraint("incident_id", "seq", name="uq_incident_history_seq"),
    )
    op.create_index("ix_incident_history_incident_id", "incident_history", ["incident_id"])
    if op.get_bind().dialect.name == "postgresql":
        op.create_index("ix_incidents_geom", "incidents", ["geom"], postgresql_using="gist")


def downgrade() -> None:
    op.drop_table("incident_history")
    op.drop_table("incidents")
    op.drop_table("incident_categories")
