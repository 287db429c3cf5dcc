"""Alembic environment: runs on the connection gridmgmt hands it.

Migrations are run from :func:`gridmgmt.store.engine.upgrade` (and so from
``gridmgmt db upgrade`` and on first use), which passes its own connection in
``config.attributes["connection"]``; no ``alembic.ini`` is needed.
"""

from alembic import context

from gridmgmt.store.models import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - only when someone runs plain `alembic`
    raise RuntimeError("run migrations through `gridmgmt db upgrade`")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=False,
)
with context.begin_transaction():
    context.run_migrations()
