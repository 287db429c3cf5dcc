"""Initial schema: admin areas, versioned grids, layers, users and roles, import runs.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

from gridmgmt.store.types import GeometryType

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

SPATIAL_TABLES = (
    "districts",
    "streets",
    "communities",
    "grids",
    "compounds",
    "buildings",
    "roads",
    "facilities",
)
ROLES = (
    ("admin", "系统管理员", "Administrator"),
    ("supervisor", "街道网格化管理中心", "Supervisor"),
    ("dept", "职能部门", "Department handler"),
    ("worker", "网格员", "Grid worker"),
    ("analyst", "分析员", "Analyst"),
)


def _geom(nullable=True):
    return sa.Column("geom", GeometryType("GEOMETRY"), nullable=nullable)


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS postgis")

    op.create_table(
        "districts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(6), nullable=False, unique=True),
        sa.Column("name", sa.String(100), nullable=False),
        _geom(),
    )
    op.create_table(
        "streets",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(9), nullable=False, unique=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("district_id", sa.Integer, sa.ForeignKey("districts.id")),
        _geom(),
    )
    op.create_table(
        "communities",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(12), nullable=False, unique=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("street_id", sa.Integer, sa.ForeignKey("streets.id")),
        _geom(),
    )
    op.create_table(
        "grids",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(15), nullable=False),
        sa.Column("community_id", sa.Integer, sa.ForeignKey("communities.id"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("households", sa.Integer, nullable=False),
        sa.Column("n_buildings", sa.Integer, nullable=False),
        sa.Column("flag", sa.String(40)),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column(
            "valid_from", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("valid_to", sa.DateTime(timezone=True)),
        _geom(nullable=False),
        sa.UniqueConstraint("code", "version", name="uq_grids_code_version"),
        sa.CheckConstraint("kind IN ('residential', 'unit')", name="ck_grids_kind"),
    )
    op.create_index("ix_grids_code", "grids", ["code"])
    op.create_index("ix_grids_current", "grids", ["community_id", "valid_to"])
    op.create_table(
        "compounds",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("source_id", sa.String(64), nullable=False, unique=True),
        sa.Column("compound_kind", sa.String(16), nullable=False),
        sa.Column("landuse", sa.String(40)),
        sa.Column("name", sa.String(200)),
        _geom(nullable=False),
    )
    op.create_table(
        "buildings",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("source_id", sa.String(64), nullable=False, unique=True),
        sa.Column("building_type", sa.String(32), nullable=False),
        sa.Column("floors", sa.Float),
        sa.Column("households", sa.Integer, nullable=False),
        sa.Column("households_source", sa.String(16), nullable=False),
        sa.Column("population", sa.Integer, nullable=False),
        sa.Column("name", sa.String(200)),
        sa.Column("compound_source_id", sa.String(64)),
        sa.Column("grid_code", sa.String(15)),
        _geom(nullable=False),
        sa.CheckConstraint("households >= 0", name="ck_buildings_households"),
        sa.CheckConstraint(
            "households_source IN ('ledger', 'estimated')", name="ck_buildings_households_source"
        ),
    )
    op.create_index("ix_buildings_compound_source_id", "buildings", ["compound_source_id"])
    op.create_index("ix_buildings_grid_code", "buildings", ["grid_code"])
    op.create_table(
        "roads",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("source_id", sa.String(64), nullable=False, unique=True),
        sa.Column("road_class", sa.String(32)),
        sa.Column("name", sa.String(200)),
        _geom(nullable=False),
    )
    op.create_table(
        "facilities",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("source_id", sa.String(64), nullable=False, unique=True),
        sa.Column("category", sa.String(40), nullable=False),
        sa.Column("name", sa.String(200)),
        sa.Column("grid_code", sa.String(15)),
        _geom(nullable=False),
    )
    op.create_index("ix_facilities_grid_code", "facilities", ["grid_code"])
    roles = op.create_table(
        "roles",
        sa.Column("name", sa.String(20), primary_key=True),
        sa.Column("label_zh", sa.String(40), nullable=False),
        sa.Column("label_en", sa.String(40), nullable=False),
    )
    op.bulk_insert(roles, [{"name": n, "label_zh": zh, "label_en": en} for n, zh, en in ROLES])
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("display_name", sa.String(100)),
        sa.Column("password_hash", sa.String(256), nullable=False),
        sa.Column("role", sa.String(20), sa.ForeignKey("roles.name"), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
    )
    op.create_table(
        "user_grids",
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), primary_key=True),
        sa.Column("grid_code", sa.String(15), primary_key=True),
    )
    op.create_table(
        "import_runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column(
            "started_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("summary", sa.JSON, nullable=False),
    )
    if bind.dialect.name == "postgresql":
        for table in SPATIAL_TABLES:
            op.create_index(f"ix_{table}_geom", table, ["geom"], postgresql_using="gist")


def downgrade() -> None:
    for table in (
        "import_runs",
        "user_grids",
        "users",
        "roles",
        "facilities",
        "roads",
        "buildings",
        "compounds",
        "grids",
        "communities",
        "streets",
        "districts",
    ):
        op.drop_table(table)
