"""Buildings say where their households come from and how sure they are; addresses for ledgers.

``households_source`` takes the sources of :mod:`gridmgmt.core.households`
(ledger, address_ledger, compound_ledger, levels, height, default; stored
rows keep ``estimated``); ``households_confidence`` is high, medium or low;
``addr_street``/``addr_housenumber`` hold OSM ``addr:*`` for address ledgers.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

SOURCES = (
    "'ledger', 'address_ledger', 'compound_ledger', 'levels', 'height', 'default', 'estimated'"
)


def upgrade() -> None:
    with op.batch_alter_table("buildings") as batch:
        batch.add_column(
            sa.Column("households_confidence", sa.String(8), nullable=False, server_default="low")
        )
        batch.add_column(sa.Column("addr_street", sa.String(200), nullable=True))
        batch.add_column(sa.Column("addr_housenumber", sa.String(40), nullable=True))
        batch.drop_constraint("ck_buildings_households_source", type_="check")
        batch.create_check_constraint(
            "ck_buildings_households_source", f"households_source IN ({SOURCES})"
        )
        batch.create_check_constraint(
            "ck_buildings_households_confidence",
            "households_confidence IN ('high', 'medium', 'low')",
        )
    op.execute(
        "UPDATE buildings SET households_confidence = 'high' WHERE households_source = 'ledger'"
    )


def downgrade() -> None:
    op.execute(
        "UPDATE buildings SET households_source = 'ledger' "
        "WHERE households_source IN ('address_ledger', 'compound_ledger')"
    )
    op.execute(
        "UPDATE buildings SET households_source = 'estimated' "
        "WHERE households_source IN ('levels', 'height', 'default')"
    )
    with op.batch_alter_table("buildings") as batch:
        batch.drop_constraint("ck_buildings_households_confidence", type_="check")
        batch.drop_constraint("ck_buildings_households_source", type_="check")
        batch.create_check_constraint(
            "ck_buildings_households_source", "households_source IN ('ledger', 'estimated')"
        )
        batch.drop_column("addr_housenumber")
        batch.drop_column("addr_street")
        batch.drop_column("households_confidence")
