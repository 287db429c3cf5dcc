"""Grid change proposals: proposed grids, moved buildings, decision and produced version.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

from gridmgmt.store.types import GeometryType

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "grid_proposals",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("community_id", sa.Integer, sa.ForeignKey("communities.id"), nullable=False),
        sa.Column("base_version", sa.Integer, nullable=False),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("summary", sa.Text),
        sa.Column("report", sa.JSON, nullable=False),
        sa.Column("totals", sa.JSON, nullable=False),
        sa.Column("decided_by", sa.String(64)),
        sa.Column("decided_at", sa.DateTime(timezone=True)),
        sa.Column("decision_note", sa.Text),
        sa.Column("result_version", sa.Integer),
        sa.CheckConstraint(
            "kind IN ('auto', 'move', 'split', 'merge', 'rollback')", name="ck_grid_proposals_kind"
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'rejected', 'superseded')",
            name="ck_grid_proposals_status",
        ),
    )
    op.create_index("ix_grid_proposals_community_id", "grid_proposals", ["community_id"])
    op.create_index("ix_grid_proposals_status", "grid_proposals", ["status"])
    op.create_table(
        "grid_proposal_grids",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("proposal_id", sa.Integer, sa.ForeignKey("grid_proposals.id"), nullable=False),
        sa.Column("code", sa.String(15), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("households", sa.Integer, nullable=False),
        sa.Column("n_buildings", sa.Integer, nullable=False),
        sa.Column("flag", sa.String(40)),
        sa.Column("geom", GeometryType("GEOMETRY"), nullable=False),
    )
    op.create_index("ix_grid_proposal_grids_proposal_id", "grid_proposal_grids", ["proposal_id"])
    if op.get_bind().dialect.name == "postgresql":
        op.create_index(
            "ix_grid_proposal_grids_geom", "grid_proposal_grids", ["geom"], postgresql_using="gist"
        )
    op.create_table(
        "grid_proposal_moves",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("proposal_id", sa.Integer, sa.ForeignKey("grid_proposals.id"), nullable=False),
        sa.Column("building_id", sa.String(64), nullable=False),
        sa.Column("households", sa.Integer, nullable=False),
        sa.Column("from_code", sa.String(15)),
        sa.Column("to_code", sa.String(15)),
    )
    op.create_index("ix_grid_proposal_moves_proposal_id", "grid_proposal_moves", ["proposal_id"])


def downgrade() -> None:
    op.drop_index("ix_grid_proposal_moves_proposal_id", "grid_proposal_moves")
    op.drop_table("grid_proposal_moves")
    op.drop_index("ix_grid_proposal_grids_proposal_id", "grid_proposal_grids")
    op.drop_table("grid_proposal_grids")
    op.drop_index("ix_grid_proposals_status", "grid_proposals")
    op.drop_index("ix_grid_proposals_community_id", "grid_proposals")
    op.drop_table("grid_proposals")
