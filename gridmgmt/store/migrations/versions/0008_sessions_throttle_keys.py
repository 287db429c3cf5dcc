"""Sessions that end, store-backed log-in throttling, expiring API keys, area-bound accounts.

- ``users.session_version``: part of every session cookie; raised on
  log-out, password reset, role change and disabling, which ends the
  account's sessions;
- ``users.area``: the 区, 街道 or 社区 code an account is bound to;
- ``login_failures``: failed log-ins per account and per client address;
- ``api_keys.expires_at``: optional expiry of a machine client's key;
- the ``hotline`` role (12345热线) for systems that submit Open311 requests.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

from gridmgmt.store.types import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

ROLES = sa.table(
    "roles", sa.column("name", sa.String), sa.column("label_zh"), sa.column("label_en")
)


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("session_version", sa.Integer, nullable=False, server_default=sa.text("1"))
        )
        batch.add_column(sa.Column("area", sa.String(12), nullable=True))
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("expires_at", UTCDateTime(), nullable=True))
    op.create_table(
        "login_failures",
        sa.Column("key", sa.String(160), primary_key=True),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("first_at", UTCDateTime(), nullable=False),
        sa.Column("locked_until", UTCDateTime(), nullable=True),
    )
    op.bulk_insert(ROLES, [{"name": "hotline", "label_zh": "12345热线", "label_en": "Hotline"}])


def _drop_column(table: str, column: str) -> None:
    # SQLite (3.35+) drops a column in place; a batch copy would have to drop
    # and recreate ``users``, which the foreign keys pointing at it forbid.
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    else:
        op.drop_column(table, column)


def downgrade() -> None:
    op.execute(ROLES.delete().where(ROLES.c.name == "hotline"))
    op.drop_table("login_failures")
    _drop_column("api_keys", "expires_at")
    _drop_column("users", "area")
    _drop_column("users", "session_version")
