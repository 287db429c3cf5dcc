"""The households ledger of visits in the store: buildings' counts, their changes, running patrols.

:class:`HouseholdVisitStore` is the repository of
:mod:`gridmgmt.domain.household_visits` over a
:class:`~gridmgmt.store.repository.Store`. :meth:`HouseholdVisitStore.record`
writes one change in one transaction: the change row (with the values it
replaces), the building's new counts and the recount of its current grid.
A change whose (user, idempotency key) is stored already is not written
again: the stored one is returned, also when two copies race (the unique
key decides, the loser reads the winner's row).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

import pandas as pd
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from gridmgmt.core.households import confidence_of
from gridmgmt.domain.errors import NotFoundError
from gridmgmt.store import models as m
from gridmgmt.store.grid_store import refresh_grid_totals_in
from gridmgmt.store.repository import Store

#: the columns of a change, as :meth:`HouseholdVisitStore.changes` returns them
CHANGE_COLUMNS = [
    "id",
    "building_id",
    "grid_code",
    "households",
    "population",
    "households_before",
    "population_before",
    "source_before",
    "grid_households_before",
    "grid_households_after",
    "note",
    "username",
    "source",
    "patrol_id",
    "idempotency_key",
    "created_at",
]
#: the columns of a building's card
BUILDING_COLUMNS = [
    "building_id",
    "name",
    "building_type",
    "households",
    "population",
    "households_source",
    "households_confidence",
    "grid_code",
    "addr_street",
    "addr_housenumber",
    "compound_id",
]


class HouseholdVisitStore:
    """Repository of household changes over a :class:`~gridmgmt.store.repository.Store`."""

    def __init__(self, store: Store):
        self.store = store

    # ------------------------------------------------------------ buildings
    def _building_select(self):
        b = m.Building
        return select(
            b.source_id.label("building_id"),
            b.name,
            b.building_type,
            b.households,
            b.population,
            b.households_source,
            b.households_confidence,
            b.grid_code,
            b.addr_street,
            b.addr_housenumber,
            b.compound_source_id.label("compound_id"),
            b.geom,
        )

    @staticmethod
    def _card(row) -> dict:
        out = dict(row)
        geom = out.pop("geom", None)
        if geom is not None:
            centre = geom.representative_point()
            out["lon"], out["lat"] = centre.x, centre.y
        return out

    def building(self, building_id: str) -> dict:
        """A building's card: ids, name, address, current counts and where they come from, grid,
        ``lon``/``lat`` of a point inside it.

        Raises
        ------
        NotFoundError
            No building with that id.
        """
        stmt = self._building_select().where(m.Building.source_id == str(building_id))
        with self.store.engine.connect() as conn:
            row = conn.execute(stmt).mappings().first()
        if row is None:
            raise NotFoundError(f"no building {building_id}")
        return self._card(row)

    def find_buildings(
        self, text: str, *, grid_codes: Iterable[str] | None = None, limit: int = 20
    ) -> list[dict]:
        """Buildings whose id is ``text`` or whose name, street or house number contains it.

        ``grid_codes`` limits them to buildings in those grids; a street
        with a house number (``长江路 12``) matches both parts.
        """
        b = m.Building
        words = [w for w in str(text).split() if w][:4]
        if not words:
            return []
        stmt = self._building_select().order_by(b.source_id).limit(int(limit))
        for word in words:
            like = f"%{word.replace('%', '').replace('_', '')}%"
            stmt = stmt.where(
                or_(
                    b.source_id == word,
                    b.name.like(like),
                    b.addr_street.like(like),
                    b.addr_housenumber.like(like),
                )
            )
        if grid_codes is not None:
            stmt = stmt.where(b.grid_code.in_(list(grid_codes)))
        with self.store.engine.connect() as conn:
            return [self._card(r) for r in conn.execute(stmt).mappings()]

    # ------------------------------------------------------------ patrols
    def running_patrol(self, username: str, since: datetime) -> int | None:
        """The id of ``username``'s newest patrol still recording that started after ``since``."""
        p = m.Patrol
        stmt = (
            select(p.id)
            .where(p.worker == username, p.status == "recording", p.started_at >= since)
            .order_by(p.started_at.desc(), p.id.desc())
            .limit(1)
        )
        with self.store.engine.connect() as conn:
            return conn.scalar(stmt)

    # ------------------------------------------------------------ changes
    def change_by_key(self, username: str, idempotency_key: str) -> dict | None:
        """The change ``username`` stored under ``idempotency_key``, or None."""
        c = m.HouseholdChange
        stmt = select(*(getattr(c, k) for k in CHANGE_COLUMNS)).where(
            c.username == username, c.idempotency_key == idempotency_key
        )
        with self.store.engine.connect() as conn:
            row = conn.execute(stmt).mappings().first()
        return dict(row) if row is not None else None

    def record(
        self,
        *,
        building_id: str,
        username: str,
        households: int,
        population: int | None,
        new_population: int,
        note: str | None,
        idempotency_key: str,
        patrol_id: int | None,
        min_households: int,
        max_households: int,
        source: str = "visit",
        now: datetime | None = None,
    ) -> tuple[dict, bool]:
        """Write one change, the building's new counts and its grid's recount, in one transaction.

        Parameters
        ----------
        building_id : str
            The building's ``source_id``.
        username : str
            Who made the change.
        households : int
            The households counted.
        population : int or None
            The population counted (None: not counted), stored on the change.
        new_population : int
            The building's population after the change.
        note : str or None
            Why, or what was seen.
        idempotency_key : str
            The client's key; unique per user.
        patrol_id : int or None
            The patrol the change was made on.
        min_households, max_households : int
            The band the grid's new total is checked against.
        source : str
            Where the change comes from (``visit``).
        now : datetime, optional
            The time of the change (default: now, UTC).

        Returns
        -------
        change : dict
            The stored change (:data:`CHANGE_COLUMNS`).
        replayed : bool
            True when the key was stored already and nothing was written.

        Raises
        ------
        NotFoundError
            No building with that id; nothing is written.
        """
        stored = self.change_by_key(username, idempotency_key)
        if stored is not None:
            return stored, True
        try:
            with self.store.session() as s:
                return self._record_in(
                    s,
                    building_id=str(building_id),
                    username=username,
                    households=int(households),
                    population=population,
                    new_population=int(new_population),
                    note=note,
                    idempotency_key=idempotency_key,
                    patrol_id=patrol_id,
                    band=(min_households, max_households),
                    source=source,
                    now=now or datetime.now(UTC),
                ), False
        except IntegrityError:
            stored = self.change_by_key(username, idempotency_key)
            if stored is None:  # another constraint: not a replay
                raise
            return stored, True

    def _record_in(self, s, *, building_id, band, now, **given) -> dict:
        b, g = m.Building, m.Grid
        building = s.execute(
            select(b).where(b.source_id == building_id).with_for_update()
        ).scalar_one_or_none()
        if building is None:
            raise NotFoundError(f"no building {building_id}")
        code = building.grid_code
        grid_before = None
        if code is not None:
            grid_before = s.scalar(
                select(g.households).where(g.code == code, g.valid_to.is_(None)).with_for_update()
            )
        change = m.HouseholdChange(
            building_id=building_id,
            grid_code=code if grid_before is not None else None,
            households=given["households"],
            population=given["population"],
            households_before=int(building.households),
            population_before=int(building.population),
            source_before=building.households_source,
            note=given["note"],
            username=given["username"],
            source=given["source"],
            patrol_id=given["patrol_id"],
            idempotency_key=given["idempotency_key"],
            created_at=now,
        )
        s.execute(
            update(b)
            .where(b.id == building.id)
            .values(
                households=given["households"],
                population=given["new_population"],
                households_source=given["source"],
                households_confidence=str(confidence_of([given["source"]])[0]),
            )
        )
        if grid_before is not None:
            refresh_grid_totals_in(s, [code], min_households=band[0], max_households=band[1])
            change.grid_households_before = int(grid_before)
            change.grid_households_after = int(
                s.scalar(select(g.households).where(g.code == code, g.valid_to.is_(None)))
            )
        s.add(change)
        s.flush()
        return {k: getattr(change, k) for k in CHANGE_COLUMNS}

    def changes(
        self,
        *,
        building_id: str | None = None,
        grid_codes: Iterable[str] | None = None,
        area: str | None = None,
        since: datetime | None = None,
        limit: int | None = None,
    ) -> pd.DataFrame:
        """Changes, newest first: of one building, of some grids, of grids under an area code
        prefix, made since a time (any combination)."""
        c = m.HouseholdChange
        stmt = select(*(getattr(c, k) for k in CHANGE_COLUMNS)).order_by(
            c.created_at.desc(), c.id.desc()
        )
        if building_id is not None:
            stmt = stmt.where(c.building_id == str(building_id))
        if grid_codes is not None:
            stmt = stmt.where(c.grid_code.in_(list(grid_codes)))
        if area is not None:
            stmt = stmt.where(c.grid_code.like(f"{area}%"))
        if since is not None:
            stmt = stmt.where(c.created_at >= since)
        if limit is not None:
            stmt = stmt.limit(int(limit))
        with self.store.engine.connect() as conn:
            rows = conn.execute(stmt).mappings().all()
        frame = pd.DataFrame([dict(r) for r in rows], columns=CHANGE_COLUMNS)
        frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True)
        return frame

    # ------------------------------------------------------------ grids
    def grid_totals(self, codes: Iterable[str]) -> pd.DataFrame:
        """Current grids ``codes`` without geometry: ``code``, ``community_code``,
        ``community_name``, ``kind``, ``households``, ``n_buildings``, ``flag``, ``version``."""
        g, c = m.Grid, m.Community
        columns = ["code", "community_code", "community_name", "kind", "households"]
        columns += ["n_buildings", "flag", "version"]
        codes = sorted({str(x) for x in codes})
        rows = []
        with self.store.engine.connect() as conn:
            for start in range(0, len(codes), 500):
                stmt = (
                    select(
                        g.code,
                        c.code.label("community_code"),
                        c.name.label("community_name"),
                        g.kind,
                        g.households,
                        g.n_buildings,
                        g.flag,
                        g.version,
                    )
                    .join(c, g.community_id == c.id)
                    .where(g.code.in_(codes[start : start + 500]), g.valid_to.is_(None))
                    .order_by(g.code)
                )
                rows += [dict(r) for r in conn.execute(stmt).mappings()]
        return pd.DataFrame(rows, columns=columns)
