"""The store: the one place that talks SQL.

:class:`Store` implements the repository interfaces of
:mod:`gridmgmt.domain.repositories` over SQLAlchemy, one concept per
module: layers and administrative areas (:mod:`~gridmgmt.store.layer_store`),
grid versions (:mod:`~gridmgmt.store.grid_store`), incidents
(:mod:`~gridmgmt.store.incident_store`) and accounts
(:mod:`~gridmgmt.store.user_store`), all over one
:class:`~gridmgmt.store.database.Database`. Every public write is one
transaction: it either lands whole or leaves the database unchanged.
"""

from __future__ import annotations

from gridmgmt.store.grid_store import GridStore
from gridmgmt.store.incident_store import IncidentStore
from gridmgmt.store.layer_store import LayerStore
from gridmgmt.store.user_store import UserStore


class Store(LayerStore, GridStore, IncidentStore, UserStore):
    """Repository over one database (SQLite file or PostGIS).

    Parameters
    ----------
    url_or_engine : str or sqlalchemy.Engine
        Database URL (see :mod:`gridmgmt.config`) or an existing engine.
    migrate : bool
        Bring the schema up to date on open (first use). Default True.
    """
