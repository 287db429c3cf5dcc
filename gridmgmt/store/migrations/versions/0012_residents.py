"""Residents and volunteers in the loop.

- ``resident_reports``: the follow code, optional contact (phone, e-mail),
  device hash and the 回访 rating of a resident's report;
- ``zero_reports``: a volunteer's daily 零报告 (one per person per day);
- the ``building_head`` (楼栋长) and ``informant`` (信息员) roles.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from gridmgmt.store.types import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

ROLES = sa.table(
    "roles", sa.column("name", sa.String), sa.column("label_zh"), sa.column("label_en")
)
NEW_ROLES = (
    {"name": "building_head", "label_zh": "楼栋长", "label_en": "Building head"},
    {"name": "informant", "label_zh": "信息员", "label_en": "Informant"},
)


def upgrade() -> None:
    op.create_table(
        "resident_reports",
        sa.Column("incident_id", sa.Integer, sa.ForeignKey("incidents.id"), primary_key=True),
        sa.Column("code", sa.String(12), nullable=False),
        sa.Column("phone", sa.String(20), nullable=True),
        sa.Column("email", sa.String(200), nullable=True),
        sa.Column("device", sa.String(64), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("rating", sa.String(12), nullable=True),
        sa.Column("rating_comment", sa.Text, nullable=True),
        sa.Column("rated_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_resident_reports_rated_at", "resident_reports", ["rated_at"])
    op.create_table(
        "zero_reports",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("grid_code", sa.String(15), nullable=True),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("username", "day", name="uq_zero_reports_user_day"),
    )
    op.create_index("ix_zero_reports_username", "zero_reports", ["username"])
    op.create_index("ix_zero_reports_day", "zero_reports", ["day"])
    op.bulk_insert(ROLES, list(NEW_ROLES))


def downgrade() -> None:
    op.execute(ROLES.delete().where(ROLES.c.name.in_([r["name"] for r in NEW_ROLES])))
    op.drop_index("ix_zero_reports_day", "zero_reports")
    op.drop_index("ix_zero_reports_username", "zero_reports")
    op.drop_table("zero_reports")
    op.drop_index("ix_resident_reports_rated_at", "resident_reports")
    op.drop_table("resident_reports")
