"""Imported layers and administrative areas in the store.

:class:`LayerStore` writes an import (layers and boundaries, with its
summary) in one transaction and reads layers, 区/街道/社区 and counts back
as GeoDataFrames.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager

import geopandas as gpd
import pandas as pd
from sqlalchemy import LargeBinary, delete, func, select, type_coerce
from sqlalchemy.orm import Session

from gridmgmt.core.layers import WGS84
from gridmgmt.domain.errors import ConflictError, NotFoundError
from gridmgmt.store import models as m
from gridmgmt.store.bulk_load import bulk_insert
from gridmgmt.store.database import Database, chunks, grid_scope_conditions
from gridmgmt.store.layers import LAYER_TABLES, rows_to_frame

_ADMIN_MODELS = {"district": m.District, "street": m.Street, "community": m.Community}
_PARENT_FK = {"street": ("district_id", m.District), "community": ("street_id", m.Street)}
_INSERT_ORDER = ("compounds", "buildings", "roads", "facilities")


class ImportWriter:
    """Writes the layers of one import, part by part, in the transaction of ``session``.

    Layers go in with :func:`gridmgmt.store.bulk_load.bulk_insert` (COPY on
    PostGIS, ``executemany`` on SQLite); :attr:`counts` sums the rows
    written per layer and :attr:`summary` is stored with the import run.
    """

    def __init__(self, store: LayerStore, session: Session, replace: bool):
        self.store, self.session, self.replace = store, session, replace
        self.counts: dict[str, int] = {}
        self.summary: Mapping = {}
        self.empty_before: dict[str, bool] = {}  # per table: held no rows when the import began

    def write(self, layers: Mapping[str, gpd.GeoDataFrame]) -> dict[str, int]:
        """Write one part: boundaries, compounds, buildings, roads, facilities (any subset).

        Raises
        ------
        ConflictError
            Ids stored already (before this import) without ``replace``.
        """
        s = self.session
        written: dict[str, int] = {}
        if "boundaries" in layers and len(layers["boundaries"]):
            written["boundaries"] = self.store.write_boundaries(s, layers["boundaries"])
        for layer in _INSERT_ORDER:
            frame = layers.get(layer)
            if frame is None or len(frame) == 0:
                continue
            model, columns = LAYER_TABLES[layer]
            id_column = next(src for src, dst in columns.items() if dst == "source_id")
            if layer not in self.empty_before:
                self.empty_before[layer] = s.scalar(select(model.id).limit(1)) is None
            # a table empty before this import holds no id of it but its own earlier parts,
            # which the reader has refused already if repeated
            existing = set()
            if not self.empty_before[layer]:
                ids = [str(i) for i in frame[id_column] if i is not None]
                existing = LayerStore.existing_ids(s, model, ids)
            if existing and not self.replace:
                shown = ", ".join(sorted(existing)[:10])
                more = f" and {len(existing) - 10} more" if len(existing) > 10 else ""
                raise ConflictError(
                    f"{layer}: {len(existing)} id(s) already stored ({shown}{more}); "
                    "use --replace to overwrite them"
                )
            if existing:
                for chunk in chunks(sorted(existing), 500):
                    s.execute(delete(model).where(model.source_id.in_(chunk)))
            written[layer] = bulk_insert(s.connection(), layer, frame)
        for layer, n in written.items():
            self.counts[layer] = self.counts.get(layer, 0) + n
        return written


class LayerStore(Database):
    """Layers and administrative areas (:class:`gridmgmt.domain.repositories.LayerRepository`)."""

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
        with self.import_session(source=source, replace=replace) as writer:
            writer.write(layers)
            writer.summary = dict(summary or {})
        return writer.counts

    @contextmanager
    def import_session(self, *, source: str, replace: bool = False) -> Iterator[ImportWriter]:
        """One import written in parts (chunks of a large file) inside one transaction.

        The body calls :meth:`ImportWriter.write` per chunk and sets
        :attr:`ImportWriter.summary`; on leaving, the import run is recorded
        and everything commits, or nothing does if the body raised.

        Parameters
        ----------
        source : str
            Where the data came from (a path), recorded with the run.
        replace : bool
            Replace objects whose ids exist already (see :meth:`write_layers`).
        """
        with self.session() as s:
            writer = ImportWriter(self, s, replace)
            yield writer
            s.add(
                m.ImportRun(
                    source=source, summary=dict(writer.summary) | {"written": dict(writer.counts)}
                )
            )

    @staticmethod
    def existing_ids(s: Session, model, ids: list[str]) -> set[str]:
        """The ``ids`` of ``model`` rows stored already."""
        found: set[str] = set()
        for chunk in chunks(ids, 500):
            found.update(s.scalars(select(model.source_id).where(model.source_id.in_(chunk))))
        return found

    def write_boundaries(self, s: Session, frame: gpd.GeoDataFrame) -> int:
        """Insert or update 区/街道/社区 outlines (parents first) in the session's transaction."""
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
        raw_geom = type_coerce(model.geom, LargeBinary).label("geom")  # parsed all at once
        cols = [getattr(model, c) for c in columns.values()] + [model.id, raw_geom]
        stmt = select(*cols).order_by(model.id)
        if grid_codes is not None:
            if not hasattr(model, "grid_code"):
                raise ValueError(f"{layer} are not located in grids")
            stmt = stmt.where(model.grid_code.in_(list(grid_codes)))
        stmt = self.where_bbox(stmt, model, bbox)
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        return self.clip_bbox(rows_to_frame(layer, rows), bbox)

    def layer_page(
        self,
        layer: str,
        scope,
        *,
        limit: int,
        offset: int = 0,
        bbox: tuple[float, float, float, float] | None = None,
        source_ids: Iterable[str] | None = None,
    ) -> tuple[gpd.GeoDataFrame, int]:
        """One page of a layer located in grids, as ``scope`` lets its reader see it.

        Parameters
        ----------
        layer : str
            ``buildings`` or ``facilities``.
        scope : gridmgmt.domain.access.GridScope
            The grids the reader may see; objects outside them are not counted.
        limit, offset : int
            The page, in the order of the stored ids.
        bbox : tuple, optional
            ``(minx, miny, maxx, maxy)`` in lon/lat: only objects intersecting it.
        source_ids : iterable of str, optional
            Only these objects (their ids as imported).

        Returns
        -------
        (geopandas.GeoDataFrame, int)
            The page (columns as :meth:`read_layer`) and how many objects match.
        """
        model, columns = LAYER_TABLES[layer]
        if not hasattr(model, "grid_code"):
            raise ValueError(f"{layer} are not located in grids")
        conditions = grid_scope_conditions(model.grid_code, scope)
        if source_ids is not None:
            conditions.append(model.source_id.in_([str(v) for v in source_ids]))
        cols = [getattr(model, c) for c in columns.values()] + [model.id, model.geom]
        with self.engine.connect() as conn:
            rows, total = self.page_rows(
                conn,
                model,
                select(*cols),
                conditions,
                [model.id],
                bbox=bbox,
                limit=limit,
                offset=offset,
            )
        return rows_to_frame(layer, rows), total

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

    def layer_revision(self, layer: str) -> tuple:
        """A fingerprint of what a map layer shows: it changes whenever the layer's data does.

        ``grids`` (current grids: their ids, households, building counts,
        flags), ``communities``, or an imported layer (its rows and
        households, the imports, and the grids they are located in). Cheap
        aggregate queries; caches of drawn layers are keyed by it.
        """
        g = m.Grid
        grids = select(
            func.count(),
            func.max(g.id),
            func.sum(g.households),
            func.sum(g.n_buildings),
            func.count(g.flag),
            func.sum(func.length(func.coalesce(g.flag, ""))),
        ).where(g.valid_to.is_(None))
        with self.engine.connect() as conn:
            out = tuple(conn.execute(grids).one())
            if layer == "grids":
                return out
            if layer == "communities":
                return tuple(conn.execute(select(func.count(), func.max(m.Community.id))).one())
            if layer not in LAYER_TABLES:
                raise ValueError(f"unknown layer {layer!r}")
            model, _ = LAYER_TABLES[layer]
            households = (
                func.sum(model.households) if hasattr(model, "households") else func.count()
            )
            rows = conn.execute(select(func.count(), func.max(model.id), households)).one()
            runs = conn.scalar(select(func.max(m.ImportRun.id)))
        return (*out, *rows, runs)

    def search(
        self,
        text: str,
        *,
        area: str | None = None,
        grid_codes: Iterable[str] | None = None,
        limit: int = 30,
        offset: int = 0,
    ) -> tuple[list[dict], int]:
        """Current grids by code, 社区 by name, buildings and facilities by name or id.

        Matches come in that order (grids by code, 社区 by code, buildings
        and facilities as stored), counted and paged in SQL: at most eight
        queries whatever the page size.

        Parameters
        ----------
        text : str
            What to look for (a substring; ``%`` and ``_`` are plain characters).
        area : str, optional
            Only grids, 社区, buildings and facilities whose (grid) code starts with it.
        grid_codes : iterable of str, optional
            Only buildings and facilities located in these grids (a worker's own).
        limit, offset : int
            The page.

        Returns
        -------
        (list of dict, int)
            ``{"type", "label", "geometry"}`` per match on the page, and how many match.
        """
        g, c = m.Grid, m.Community
        kinds = [
            (
                "grid",
                g,
                g.code,
                g.code,
                [g.valid_to.is_(None), g.code.contains(text, autoescape=True)],
            ),
            ("community", c, c.name, c.code, [c.name.contains(text, autoescape=True)]),
        ]
        if area is not None:
            kinds[0][4].append(g.code.startswith(area, autoescape=True))
            kinds[1][4].append(c.code.startswith(area, autoescape=True))
        for kind, model in (("building", m.Building), ("facility", m.Facility)):
            conditions = [model.name.contains(text, autoescape=True) | (model.source_id == text)]
            if area is not None:
                conditions.append(model.grid_code.startswith(area, autoescape=True))
            if grid_codes is not None:
                conditions.append(model.grid_code.in_(list(grid_codes)))
            label = func.coalesce(model.name, model.source_id)
            kinds.append((kind, model, label, model.id, conditions))
        found: list[dict] = []
        with self.engine.connect() as conn:
            counts = [
                conn.scalar(select(func.count()).select_from(model).where(*conditions))
                for _, model, _, _, conditions in kinds
            ]
            skip, room = offset, limit
            for (kind, model, label, order, conditions), n in zip(kinds, counts, strict=True):
                if room <= 0:
                    break
                if skip >= n:
                    skip -= n
                    continue
                stmt = select(label.label("label"), model.geom).where(*conditions)
                rows = conn.execute(stmt.order_by(order).limit(room).offset(skip)).all()
                found += [{"type": kind, "label": r.label, "geometry": r.geom} for r in rows]
                skip, room = 0, room - len(rows)
        return found, int(sum(counts))

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
