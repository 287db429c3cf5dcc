"""The store: the one place that talks SQL.

:class:`Store` implements the repository interfaces of
:mod:`gridmgmt.domain.repositories` over SQLAlchemy. Every public write is
one transaction: it either lands whole or leaves the database unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime

import geopandas as gpd
import pandas as pd
import shapely
from sqlalchemy import Engine, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from gridmgmt.core.layers import WGS84
from gridmgmt.domain.errors import ConflictError, NotFoundError
from gridmgmt.store import models as m
from gridmgmt.store.engine import ensure_schema, make_engine
from gridmgmt.store.layers import LAYER_TABLES, frame_to_rows, rows_to_frame

_ADMIN_MODELS = {"district": m.District, "street": m.Street, "community": m.Community}
_PARENT_FK = {"street": ("district_id", m.District), "community": ("street_id", m.Street)}
_INSERT_ORDER = ("compounds", "buildings", "roads", "facilities")


class Store:
    """Repository over one database (SQLite file or PostGIS).

    Parameters
    ----------
    url_or_engine : str or sqlalchemy.Engine
        Database URL (see :mod:`gridmgmt.config`) or an existing engine.
    migrate : bool
        Bring the schema up to date on open (first use). Default True.
    """

    def __init__(self, url_or_engine: str | Engine, *, migrate: bool = True):
        self.engine = (
            make_engine(url_or_engine) if isinstance(url_or_engine, str) else url_or_engine
        )
        if migrate:
            ensure_schema(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def backend(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self.engine.dialect.name

    @contextmanager
    def session(self):
        """A session in one transaction: committed on success, rolled back on error."""
        with self._sessions.begin() as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()

    # ------------------------------------------------------------------ layers
    def write_layers(
        self,
        layers: Mapping[str, gpd.GeoDataFrame],
        *,
        source: str,
        summary: Mapping | None = None,
        replace: bool = False,
    ) -> dict[str, int]:
        """Write imported layers and the import's summary in one transaction.

        Parameters
        ----------
        layers : mapping of layer name to GeoDataFrame
            ``boundaries``, ``compounds``, ``buildings``, ``roads``,
            ``facilities`` (any subset) with the columns of
            :mod:`gridmgmt.core.layers`.
        source : str
            Where the data came from (a path), recorded with the run.
        summary : mapping, optional
            The import report, stored as JSON in ``import_runs``.
        replace : bool
            Replace objects whose ids exist already; by default such ids are
            refused with :class:`~gridmgmt.domain.errors.ConflictError`.

        Returns
        -------
        dict
            Rows written per layer.
        """
        counts: dict[str, int] = {}
        with self.session() as s:
            if "boundaries" in layers and len(layers["boundaries"]):
                counts["boundaries"] = self._write_boundaries(s, layers["boundaries"])
            for layer in _INSERT_ORDER:
                frame = layers.get(layer)
                if frame is None or len(frame) == 0:
                    continue
                model, _ = LAYER_TABLES[layer]
                rows = frame_to_rows(layer, frame)
                ids = [r["source_id"] for r in rows]
                existing = self._existing_ids(s, model, ids)
                if existing and not replace:
                    shown = ", ".join(sorted(existing)[:10])
                    more = f" and {len(existing) - 10} more" if len(existing) > 10 else ""
                    raise ConflictError(
                        f"{layer}: {len(existing)} id(s) already stored ({shown}{more}); "
                        "use --replace to overwrite them"
                    )
                if existing:
                    for chunk in _chunks(sorted(existing), 500):
                        s.execute(delete(model).where(model.source_id.in_(chunk)))
                for chunk in _chunks(rows, 2000):
                    s.execute(insert(model), chunk)
                counts[layer] = len(rows)
            s.add(m.ImportRun(source=source, summary=dict(summary or {}) | {"written": counts}))
        return counts

    @staticmethod
    def _existing_ids(s: Session, model, ids: list[str]) -> set[str]:
        found: set[str] = set()
        for chunk in _chunks(ids, 500):
            found.update(s.scalars(select(model.source_id).where(model.source_id.in_(chunk))))
        return found

    def _write_boundaries(self, s: Session, frame: gpd.GeoDataFrame) -> int:
        frame = frame.to_crs(WGS84) if frame.crs is not None else frame
        order = {"district": 0, "street": 1, "community": 2}
        unknown = set(frame["level"]) - order.keys()
        if unknown:
            raise ValueError(f"boundaries: unknown level(s) {sorted(unknown)}")
        frame = frame.iloc[frame["level"].map(order).argsort(kind="stable")]
        for row in frame.itertuples(index=False):
            model = _ADMIN_MODELS[row.level]
            values = {"code": str(row.code), "name": row.name, "geom": row.geometry}
            if row.level in _PARENT_FK and isinstance(row.parent_code, str) and row.parent_code:
                fk, parent_model = _PARENT_FK[row.level]
                parent_id = s.scalar(
                    select(parent_model.id).where(parent_model.code == row.parent_code)
                )
                values[fk] = parent_id
            obj = s.scalar(select(model).where(model.code == values["code"]))
            if obj is None:
                s.add(model(**values))
            else:
                for key, value in values.items():
                    setattr(obj, key, value)
            s.flush()
        return len(frame)

    def read_layer(
        self,
        layer: str,
        *,
        bbox: tuple[float, float, float, float] | None = None,
        grid_codes: Iterable[str] | None = None,
    ) -> gpd.GeoDataFrame:
        """A stored layer as a GeoDataFrame (EPSG:4326).

        Parameters
        ----------
        layer : str
            ``buildings``, ``roads``, ``compounds`` or ``facilities``.
        bbox : tuple, optional
            ``(minx, miny, maxx, maxy)`` in lon/lat: only objects intersecting it
            (a GiST-indexed ``ST_Intersects`` on PostGIS, shapely on SQLite).
        grid_codes : iterable of str, optional
            Only objects located in these grids (layers with a grid code).
        """
        if layer not in LAYER_TABLES:
            raise ValueError(f"unknown layer {layer!r}; expected one of {', '.join(LAYER_TABLES)}")
        model, columns = LAYER_TABLES[layer]
        cols = [getattr(model, c) for c in columns.values()] + [model.id, model.geom]
        stmt = select(*cols).order_by(model.id)
        if grid_codes is not None:
            if not hasattr(model, "grid_code"):
                raise ValueError(f"{layer} are not located in grids")
            stmt = stmt.where(model.grid_code.in_(list(grid_codes)))
        stmt = self._where_bbox(stmt, model, bbox)
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).mappings().all()
        return self._clip_bbox(rows_to_frame(layer, rows), bbox)

    def _where_bbox(self, stmt, model, bbox):
        if bbox is not None and self.backend == "postgresql":
            envelope = func.ST_MakeEnvelope(*map(float, bbox), 4326)
            stmt = stmt.where(func.ST_Intersects(model.geom, envelope))
        return stmt

    def _clip_bbox(self, frame: gpd.GeoDataFrame, bbox) -> gpd.GeoDataFrame:
        if bbox is None or self.backend == "postgresql" or len(frame) == 0:
            return frame
        return frame[frame.intersects(shapely.box(*bbox))]

    def counts(self) -> dict[str, int]:
        """Number of rows per main table (current grids only)."""
        out = {}
        with self.engine.connect() as conn:
            for name, model in (
                ("districts", m.District),
                ("streets", m.Street),
                ("communities", m.Community),
                ("compounds", m.Compound),
                ("buildings", m.Building),
                ("roads", m.Road),
                ("facilities", m.Facility),
                ("users", m.User),
            ):
                out[name] = conn.scalar(select(func.count()).select_from(model))
            out["grids"] = conn.scalar(
                select(func.count()).select_from(m.Grid).where(m.Grid.valid_to.is_(None))
            )
            out["households"] = conn.scalar(
                select(func.coalesce(func.sum(m.Building.households), 0))
            )
        return out

    # ------------------------------------------------------------ admin areas
    def admin_areas(self, level: str) -> gpd.GeoDataFrame:
        """区/街道/社区 polygons: code, name, parent_code, geometry."""
        model = _ADMIN_MODELS[level]
        cols = [model.code, model.name, model.geom]
        stmt = select(*cols)
        if level in _PARENT_FK:
            fk, parent = _PARENT_FK[level]
            stmt = select(*cols, parent.code.label("parent_code")).outerjoin(
                parent, getattr(model, fk) == parent.id
            )
        with self.engine.connect() as conn:
            rows = conn.execute(stmt.order_by(model.code)).mappings().all()
        records = [dict(r) for r in rows]
        geoms = [r.pop("geom") for r in records]
        frame = pd.DataFrame.from_records(records, columns=["code", "name", "parent_code"])
        return gpd.GeoDataFrame(frame, geometry=geoms, crs=WGS84)

    def community(self, name_or_code: str) -> dict:
        """One 社区 by name or 12-digit code, as a dict with its geometry."""
        with self.engine.connect() as conn:
            row = (
                conn.execute(
                    select(
                        m.Community.id, m.Community.code, m.Community.name, m.Community.geom
                    ).where((m.Community.code == name_or_code) | (m.Community.name == name_or_code))
                )
                .mappings()
                .first()
            )
        if row is None:
            known = ", ".join(
                f"{r.name} ({r.code})" for r in self.admin_areas("community").itertuples()
            )
            raise NotFoundError(f"no 社区 named {name_or_code!r}; known: {known or 'none'}")
        return dict(row)

    # ------------------------------------------------------------------ grids
    def write_grid_version(
        self,
        community_code: str,
        grids: gpd.GeoDataFrame,
        building_grid: Mapping[str, str] | pd.Series,
        *,
        expected_version: int | None = None,
    ) -> int:
        """Close the 社区's current grids and write ``grids`` as the next version.

        Parameters
        ----------
        community_code : str
            12-digit 社区 code.
        grids : GeoDataFrame
            code, kind, households, n_buildings, flag, geometry.
        building_grid : mapping or Series
            Building ``source_id`` -> grid code, written onto the buildings.
        expected_version : int, optional
            The version the caller based its work on; if the stored current
            version differs, :class:`ConflictError` names the newer one.

        Returns
        -------
        int
            The new version number.
        """
        with self.session() as s:
            return self._write_grid_version(
                s, community_code, grids, building_grid, expected_version=expected_version
            )

    def _write_grid_version(
        self, s: Session, community_code, grids, building_grid, *, expected_version=None
    ) -> int:
        """:meth:`write_grid_version` inside the caller's transaction ``s``."""
        now = datetime.now(UTC)
        grids = grids.to_crs(WGS84)
        community = s.scalar(select(m.Community).where(m.Community.code == community_code))
        if community is None:
            raise NotFoundError(f"no 社区 with code {community_code}")
        current = s.scalar(
            select(func.max(m.Grid.version)).where(
                m.Grid.community_id == community.id, m.Grid.valid_to.is_(None)
            )
        )
        if expected_version is not None and (current or 0) != expected_version:
            raise ConflictError(
                f"社区 {community_code} is at grid version {current}, not {expected_version}; "
                "reload and redo the change"
            )
        latest = s.scalar(
            select(func.max(m.Grid.version)).where(m.Grid.community_id == community.id)
        )
        version = (latest or 0) + 1
        s.execute(
            update(m.Grid)
            .where(m.Grid.community_id == community.id, m.Grid.valid_to.is_(None))
            .values(valid_to=now)
        )
        rows = [
            {
                "code": str(r.code),
                "community_id": community.id,
                "kind": r.kind,
                "households": int(r.households),
                "n_buildings": int(r.n_buildings),
                "flag": r.flag if isinstance(r.flag, str) and r.flag else None,
                "version": version,
                "valid_from": now,
                "geom": r.geometry,
            }
            for r in grids.itertuples(index=False)
        ]
        if rows:
            s.execute(insert(m.Grid), rows)
        self._set_grid_codes(s, m.Building, building_grid)
        return version

    @staticmethod
    def _set_grid_codes(s: Session, model, mapping: Mapping[str, str] | pd.Series) -> None:
        """``source_id -> code`` onto ``model``; a None code clears a stale assignment."""
        series = pd.Series(mapping, dtype=object) if not isinstance(mapping, pd.Series) else mapping
        keys = series.map(lambda c: c if isinstance(c, str) else "")
        for code, ids in series.groupby(keys).groups.items():
            for chunk in _chunks([str(i) for i in ids], 500):
                s.execute(
                    update(model).where(model.source_id.in_(chunk)).values(grid_code=code or None)
                )

    def grid_code_at(self, lon: float, lat: float) -> str | None:
        """The current grid at a position: smallest code among the grids covering it.

        On PostGIS this is one indexed SQL query (``ST_Covers`` with the GiST
        index); on SQLite an in-process :class:`~gridmgmt.core.live_index.GridIndex`,
        rebuilt when the current grid set changes. Both follow the rule of
        :func:`gridmgmt.core.assignment.assign`.
        """
        if self.backend == "postgresql":
            point = func.ST_SetSRID(func.ST_MakePoint(float(lon), float(lat)), 4326)
            stmt = (
                select(m.Grid.code)
                .where(m.Grid.valid_to.is_(None), func.ST_Covers(m.Grid.geom, point))
                .order_by(m.Grid.code)
                .limit(1)
            )
            with self.engine.connect() as conn:
                return conn.scalar(stmt)
        return self.grid_index().lookup(lon, lat)

    def grid_index(self):
        """The live index of current grids, rebuilt only when they changed."""
        from gridmgmt.core.live_index import GridIndex

        with self.engine.connect() as conn:
            key = tuple(
                conn.execute(
                    select(func.count(m.Grid.id), func.max(m.Grid.id), func.max(m.Grid.valid_to))
                ).one()
            )
        index = self.__dict__.setdefault("_grid_index", GridIndex())
        if index.version != key:
            index.refresh(self.current_grids(), key)
        return index

    def set_grid_codes(self, layer: str, mapping: Mapping[str, str] | pd.Series) -> None:
        """Write ``source_id -> grid code`` assignments onto a layer, in one transaction."""
        model, _ = LAYER_TABLES[layer]
        with self.session() as s:
            self._set_grid_codes(s, model, mapping)

    def update_households(
        self, ledger: pd.DataFrame, *, min_households: int = 250, max_households: int = 500
    ) -> pd.DataFrame:
        """Write new household (and population) counts of stored buildings, in one transaction.

        ``ledger`` has ``building_id``, ``households`` and ``population``.
        Buildings get ``households_source = 'ledger'``; the current grids they
        lie in get their new totals, and residential ones the flag
        ``out_of_band`` when the totals leave ``[min_households,
        max_households]`` (cleared when they come back). Returns one row per
        grid whose total changed: ``code``, ``community_code``, ``kind``,
        ``before``, ``after``, ``flag``.

        Raises
        ------
        NotFoundError
            Ids that match no stored building (listed); nothing is written.
        """
        ids = ledger["building_id"].astype(str).tolist()
        b = m.Building
        with self.session() as s:
            found: dict[str, tuple[int, str | None]] = {}
            for chunk in _chunks(ids, 500):
                for row in s.execute(
                    select(b.source_id, b.id, b.grid_code).where(b.source_id.in_(chunk))
                ):
                    found[row.source_id] = (row.id, row.grid_code)
            missing = [i for i in ids if i not in found]
            if missing:
                more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
                raise NotFoundError(
                    f"{len(missing)} building id(s) not stored: {', '.join(missing[:10])}{more}"
                )
            rows = [
                {
                    "id": found[i][0],
                    "households": int(h),
                    "population": int(p),
                    "households_source": "ledger",
                }
                for i, h, p in zip(ids, ledger["households"], ledger["population"], strict=True)
            ]
            codes = sorted({found[i][1] for i in ids if found[i][1]})
            g = m.Grid
            current = s.execute(
                select(g.id, g.code, g.kind, g.households, g.flag, m.Community.code)
                .join(m.Community, g.community_id == m.Community.id)
                .where(g.code.in_(codes), g.valid_to.is_(None))
            ).all()
            for chunk in _chunks(rows, 2000):
                s.execute(update(b), chunk)
            totals = dict(
                s.execute(
                    select(b.grid_code, func.coalesce(func.sum(b.households), 0))
                    .where(b.grid_code.in_(codes))
                    .group_by(b.grid_code)
                ).all()
            )
            changed = []
            for gid, code, kind, before, flag, community in current:
                after = int(totals.get(code, 0))
                if after == before:
                    continue
                if kind == "residential" and flag in (None, "out_of_band"):
                    inside = min_households <= after <= max_households
                    flag = None if inside else "out_of_band"
                s.execute(update(g).where(g.id == gid).values(households=after, flag=flag))
                changed.append((code, community, kind, int(before), after, flag))
        return pd.DataFrame(
            changed, columns=["code", "community_code", "kind", "before", "after", "flag"]
        )

    def current_grids(self, community_code: str | None = None, *, bbox=None) -> gpd.GeoDataFrame:
        """Current grids (``valid_to IS NULL``), optionally of one 社区 or in a bbox."""
        return self.grids_at(None, community_code, bbox=bbox)

    def grids_at(self, when: datetime | None, community_code: str | None = None, *, bbox=None):
        """Grids valid at ``when`` (``None``: now) as a GeoDataFrame."""
        g = m.Grid
        stmt = select(
            g.code,
            g.kind,
            g.households,
            g.n_buildings,
            g.flag,
            g.version,
            g.valid_from,
            g.valid_to,
            m.Community.code.label("community_code"),
            g.geom,
        ).join(m.Community, g.community_id == m.Community.id)
        if when is None:
            stmt = stmt.where(g.valid_to.is_(None))
        else:
            stmt = stmt.where(g.valid_from <= when, (g.valid_to.is_(None)) | (g.valid_to > when))
        if community_code is not None:
            stmt = stmt.where(m.Community.code == community_code)
        stmt = self._where_bbox(stmt, g, bbox)
        with self.engine.connect() as conn:
            rows = conn.execute(stmt.order_by(g.code)).mappings().all()
        records = [dict(r) for r in rows]
        geoms = [r.pop("geom") for r in records]
        columns = ["code", "kind", "households", "n_buildings", "flag", "version"]
        columns += ["valid_from", "valid_to", "community_code"]
        frame = pd.DataFrame.from_records(records, columns=columns)
        return self._clip_bbox(gpd.GeoDataFrame(frame, geometry=geoms, crs=WGS84), bbox)

    # -------------------------------------------------------------- incidents
    def sync_categories(self, categories) -> int:
        """Add categories missing from the table (edits made in the database are kept)."""
        with self.session() as s:
            known = set(s.scalars(select(m.IncidentCategory.code)))
            new = [c for c in categories if c.code not in known]
            for c in new:
                s.add(
                    m.IncidentCategory(
                        **{
                            k: getattr(c, k)
                            for k in (
                                "code",
                                "family",
                                "major_code",
                                "major_name",
                                "name",
                                "name_en",
                                "department",
                                "register_min",
                                "dispatch_min",
                                "handle_limit",
                                "handle_unit",
                                "urgent_handle_limit",
                                "urgent_handle_unit",
                                "verify_min",
                                "photo_required",
                            )
                        },
                        active=True,
                    )
                )
            return len(new)

    def category(self, code: str) -> dict | None:
        """One active category as a dict, or None."""
        with self.engine.connect() as conn:
            row = (
                conn.execute(
                    select(m.IncidentCategory.__table__).where(
                        m.IncidentCategory.code == str(code), m.IncidentCategory.active.is_(True)
                    )
                )
                .mappings()
                .first()
            )
        return dict(row) if row else None

    def create_incident(self, record: dict, history: dict) -> tuple[dict, bool]:
        """Insert an incident and its first history row in one transaction.

        A record whose ``idempotency_key`` is stored already is not inserted
        again: the stored incident is returned with ``created=False`` (a phone
        retrying a submission). Returns ``(incident, created)``.
        """
        key = record.get("idempotency_key")
        if key:
            existing = self._incident_by(m.Incident.idempotency_key == key)
            if existing is not None:
                return existing, False
        now = record["created_at"]
        year = now.year
        for _ in range(5):
            try:
                with self.session() as s:
                    count = s.scalar(
                        select(func.count())
                        .select_from(m.Incident)
                        .where(m.Incident.number.like(f"{year}-%"))
                    )
                    incident = m.Incident(number=f"{year}-{count + 1:06d}", version=1, **record)
                    s.add(incident)
                    s.flush()
                    s.add(m.IncidentHistory(incident_id=incident.id, seq=1, **history))
                    incident_id = incident.id
                return self.incident(incident_id), True
            except IntegrityError:
                if (
                    key
                    and (existing := self._incident_by(m.Incident.idempotency_key == key))
                    is not None
                ):
                    return existing, False
                continue  # another report took the number: try the next one
        raise ConflictError("could not allocate an incident number; try again")

    def _incident_by(self, condition) -> dict | None:
        with self.engine.connect() as conn:
            incident_id = conn.scalar(select(m.Incident.id).where(condition))
        return None if incident_id is None else self.incident(incident_id)

    def incident(self, incident_id: int) -> dict:
        """An incident with its history (oldest first); NotFoundError if absent."""
        with self.engine.connect() as conn:
            row = (
                conn.execute(select(m.Incident.__table__).where(m.Incident.id == incident_id))
                .mappings()
                .first()
            )
            if row is None:
                raise NotFoundError(f"no incident {incident_id}")
            history = (
                conn.execute(
                    select(m.IncidentHistory.__table__)
                    .where(m.IncidentHistory.incident_id == incident_id)
                    .order_by(m.IncidentHistory.seq)
                )
                .mappings()
                .all()
            )
        out = dict(row)
        out["history"] = [dict(h) for h in history]
        return out

    def apply_transition(
        self, incident_id: int, expected_version: int, changes: dict, history: dict
    ) -> dict:
        """Move an incident on, if nobody else did since ``expected_version``.

        The update is conditional on the version; a concurrent transition that
        got there first makes this one fail with :class:`ConflictError`, and
        nothing is written.
        """
        with self.session() as s:
            result = s.execute(
                update(m.Incident)
                .where(m.Incident.id == incident_id, m.Incident.version == expected_version)
                .values(version=expected_version + 1, **changes)
            )
            if result.rowcount != 1:
                current = s.scalar(select(m.Incident.version).where(m.Incident.id == incident_id))
                if current is None:
                    raise NotFoundError(f"no incident {incident_id}")
                raise ConflictError(
                    f"incident {incident_id} changed meanwhile (version {current}, expected {expected_version}); reload it"
                )
            seq = s.scalar(
                select(func.max(m.IncidentHistory.seq)).where(
                    m.IncidentHistory.incident_id == incident_id
                )
            )
            s.add(m.IncidentHistory(incident_id=incident_id, seq=(seq or 0) + 1, **history))
        return self.incident(incident_id)

    def incidents(
        self, *, state: str | None = None, grid_codes=None, unassigned: bool | None = None
    ) -> pd.DataFrame:
        """Incidents as a table (no geometry), filtered."""
        t = m.Incident.__table__
        stmt = select(*[c for c in t.c if c.name != "geom"]).order_by(m.Incident.id)
        if state is not None:
            stmt = stmt.where(m.Incident.state == state)
        if grid_codes is not None:
            stmt = stmt.where(m.Incident.grid_code.in_(list(grid_codes)))
        if unassigned is not None:
            stmt = stmt.where(
                m.Incident.grid_code.is_(None) if unassigned else m.Incident.grid_code.is_not(None)
            )
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).mappings().all()
        return pd.DataFrame.from_records(
            [dict(r) for r in rows], columns=[c.name for c in t.c if c.name != "geom"]
        )

    def incident_points(self, *, bbox=None, open_only: bool = True) -> gpd.GeoDataFrame:
        """Incident ids and locations (EPSG:4326), optionally in a bbox and only open ones."""
        stmt = select(
            m.Incident.id,
            m.Incident.number,
            m.Incident.state,
            m.Incident.category_code,
            m.Incident.grid_code,
            m.Incident.deadline_at,
            m.Incident.geom,
        )
        if open_only:
            stmt = stmt.where(m.Incident.state.not_in(("closed", "rejected", "cancelled")))
        stmt = self._where_bbox(stmt, m.Incident, bbox)
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).mappings().all()
        columns = ("id", "number", "state", "category_code", "grid_code", "deadline_at")
        frame = gpd.GeoDataFrame(
            {c: pd.Series([r[c] for r in rows], dtype=object) for c in columns},
            geometry=[r["geom"] for r in rows],
            crs=WGS84,
        )
        return self._clip_bbox(frame, bbox)

    def set_incident_grids(self, placed: pd.DataFrame) -> None:
        """Write ``grid_code``/``reason`` (index: incident id) onto incidents, in one transaction."""
        with self.session() as s:
            for incident_id, row in placed.iterrows():
                s.execute(
                    update(m.Incident)
                    .where(m.Incident.id == int(incident_id))
                    .values(grid_code=row["grid_code"], unassigned_reason=row["reason"])
                )

    def incident_history(self) -> pd.DataFrame:
        """Every history row (no geometry), for KPIs and audits."""
        t = m.IncidentHistory.__table__
        with self.engine.connect() as conn:
            rows = (
                conn.execute(
                    select(*[c for c in t.c if c.name != "geom"]).order_by(t.c.incident_id, t.c.seq)
                )
                .mappings()
                .all()
            )
        return pd.DataFrame.from_records(
            [dict(r) for r in rows], columns=[c.name for c in t.c if c.name != "geom"]
        )

    # ------------------------------------------------------------------ users
    def add_user(
        self,
        username: str,
        password_hash: str,
        role: str,
        *,
        display_name: str | None = None,
        grid_codes: Iterable[str] = (),
    ) -> int:
        """Create an account; refuses an existing username or unknown role."""
        with self.session() as s:
            if s.scalar(select(m.User.id).where(m.User.username == username)) is not None:
                raise ConflictError(f"user {username!r} exists already")
            if s.get(m.Role, role) is None:
                roles = ", ".join(s.scalars(select(m.Role.name)))
                raise ValueError(f"unknown role {role!r}; expected one of {roles}")
            user = m.User(
                username=username,
                password_hash=password_hash,
                role=role,
                display_name=display_name,
                active=True,
            )
            s.add(user)
            s.flush()
            for code in grid_codes:
                s.add(m.UserGrid(user_id=user.id, grid_code=code))
            return user.id

    def user(self, *, username: str | None = None, user_id: int | None = None) -> dict | None:
        """One account (with its password hash and grid codes), or None."""
        stmt = select(m.User)
        stmt = (
            stmt.where(m.User.username == username)
            if username is not None
            else stmt.where(m.User.id == user_id)
        )
        with self.session() as s:
            user = s.scalar(stmt)
            if user is None:
                return None
            codes = sorted(
                s.scalars(select(m.UserGrid.grid_code).where(m.UserGrid.user_id == user.id))
            )
            return {
                "id": user.id,
                "username": user.username,
                "display_name": user.display_name,
                "password_hash": user.password_hash,
                "role": user.role,
                "active": user.active,
                "grid_codes": codes,
            }

    def add_api_key(self, client: str, role: str, prefix: str, key_hash: str) -> int:
        """Store a client's key hash; refuses an unknown role."""
        with self.session() as s:
            if s.get(m.Role, role) is None:
                raise ValueError(f"unknown role {role!r}")
            key = m.ApiKey(client=client, role=role, prefix=prefix, key_hash=key_hash, active=True)
            s.add(key)
            s.flush()
            return key.id

    def api_key(self, key_hash: str) -> dict | None:
        """The active key with this hash, or None."""
        with self.engine.connect() as conn:
            row = (
                conn.execute(
                    select(m.ApiKey.id, m.ApiKey.client, m.ApiKey.role, m.ApiKey.prefix).where(
                        m.ApiKey.key_hash == key_hash, m.ApiKey.active.is_(True)
                    )
                )
                .mappings()
                .first()
            )
        return dict(row) if row else None

    def users(self) -> pd.DataFrame:
        """All accounts with their grid codes (no password hashes)."""
        with self.engine.connect() as conn:
            users = (
                conn.execute(
                    select(
                        m.User.id, m.User.username, m.User.display_name, m.User.role, m.User.active
                    ).order_by(m.User.username)
                )
                .mappings()
                .all()
            )
            links = conn.execute(select(m.UserGrid.user_id, m.UserGrid.grid_code)).all()
        grids: dict[int, list[str]] = {}
        for user_id, code in links:
            grids.setdefault(user_id, []).append(code)
        frame = pd.DataFrame.from_records(
            [dict(u) for u in users], columns=["id", "username", "display_name", "role", "active"]
        )
        frame["grid_codes"] = [sorted(grids.get(i, [])) for i in frame["id"]]
        return frame


def _chunks(items, size):
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start : start + size]
