"""Indexes for the columns paged lists filter and sort by.

Incident lists filter by state, grid, department, reporter (a hotline's own
requests) and category (Open311 ``service_code``) and sort by report time
or deadline; patrol lists take one worker's patrols by start time.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01
"""

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_incidents_department", "incidents", ["department"]),
    ("ix_incidents_deadline_at", "incidents", ["deadline_at"]),
    ("ix_incidents_created_at", "incidents", ["created_at"]),
    ("ix_incidents_reporter", "incidents", ["reporter"]),
    ("ix_incidents_category_code", "incidents", ["category_code"]),
    ("ix_incidents_grid_state", "incidents", ["grid_code", "state"]),
    ("ix_patrols_worker_started", "patrols", ["worker", "started_at"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
