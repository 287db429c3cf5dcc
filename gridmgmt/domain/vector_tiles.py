"""Vector tiles of grids, buildings and incidents, as the access policy lets a principal see them.

:class:`VectorTiles` answers ``(principal, layer, z, x, y)`` with an MVT
tile and its ETag. Who sees what is :mod:`gridmgmt.domain.access`'s rule,
the same as every other door: grids and buildings of the principal's area
(a grid worker's own grids only), incidents that
:func:`~gridmgmt.domain.access.visible_incidents` keeps, with locations
snapped to about 100 m for roles that may not see exact places. Tiles only
carry fields that no role has to have hidden (no descriptions, addresses,
reporters or departments).

Grids and buildings tiles are kept per data version in a small in-memory
LRU, so a city's map is encoded once per grid version and process.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime

from gridmgmt.core.vector_tiles import TileAddress, encode_tile, to_mercator
from gridmgmt.domain import access
from gridmgmt.domain.errors import NotFoundError

#: layer -> the smallest zoom its tiles carry features at (emptier below)
MIN_ZOOM = {"grids": 12, "buildings": 15, "incidents": 12}
#: layer -> the action a principal needs for it (besides ``map.view``)
LAYER_ACTIONS = {"grids": "map.view", "buildings": "map.view", "incidents": "incident.read"}
#: how many encoded grid/building tiles a process keeps
CACHE_TILES = 4096


@dataclass(frozen=True)
class Tile:
    """An encoded tile (``b""``: nothing to draw) and the ETag it was made for.

    ``not_modified``: the asker already holds this version (nothing was encoded).
    """

    content: bytes
    etag: str
    not_modified: bool = False


def tile_address(layer: str, z: int, x: int, y: int) -> TileAddress:
    """The address of a tile, or :class:`NotFoundError` for an unknown layer or a bad address."""
    if layer not in MIN_ZOOM:
        raise NotFoundError(f"no tile layer {layer!r}; layers: {', '.join(MIN_ZOOM)}")
    try:
        return TileAddress(int(z), int(x), int(y))
    except (TypeError, ValueError) as err:
        raise NotFoundError(str(err)) from err


class VectorTiles:
    """Tiles over a tile source (:class:`gridmgmt.store.vector_tiles.VectorTileStore`).

    Parameters
    ----------
    source : VectorTileStore
        Version stamps, rows per tile (Python encoding) or SQL-encoded tiles.
    incidents : callable
        ``incidents(bbox) -> GeoDataFrame`` of open incident points in a
        lon/lat bbox with the columns the access policy filters by
        (the store's ``incident_points``).
    """

    def __init__(self, source, incidents):
        self.source = source
        self.incidents = incidents
        self._cache: OrderedDict[tuple, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def etag(self, principal: access.Principal, layer: str, address: TileAddress) -> str:
        """The ETag of the tile for ``principal``: data version and what the principal may see."""
        scope = (
            principal.role,
            principal.area,
            principal.department,
            principal.username if principal.role in ("worker", "hotline") else "",
            ",".join(sorted(principal.grid_codes)) if principal.role == "worker" else "",
        )
        key = f"{layer}/{address.z}/{address.x}/{address.y}/{self.source.stamp(layer)}/{scope}"
        return hashlib.sha1(key.encode()).hexdigest()[:20]

    def may_see(self, principal: access.Principal, layer: str) -> bool:
        """Whether ``principal`` may see ``layer``'s tiles at all."""
        return access.may(principal, "map.view") and access.may(principal, LAYER_ACTIONS[layer])

    def tile(
        self,
        principal: access.Principal,
        layer: str,
        z: int,
        x: int,
        y: int,
        *,
        known_etags: frozenset[str] | set[str] = frozenset(),
    ) -> Tile:
        """The tile ``layer/z/x/y`` as ``principal`` may see it.

        When its ETag is among ``known_etags`` (the client's cached copies),
        nothing is encoded and the tile says ``not_modified``.

        Raises
        ------
        NotFoundError
            Unknown layer, zoom outside 0..22, x or y outside 0..2^z-1.
        PermissionError
            The principal may not see the layer.
        """
        address = tile_address(layer, z, x, y)
        if not self.may_see(principal, layer):
            raise PermissionError(f"{principal.role} may not see {layer} tiles")
        etag = self.etag(principal, layer, address)
        if etag in known_etags:
            return Tile(b"", etag, not_modified=True)
        if address.z < MIN_ZOOM[layer]:
            return Tile(b"", etag)
        if layer == "incidents":
            return Tile(self._incidents(principal, address), etag)
        key = (etag, layer, address)
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                return Tile(cached, etag)
        content = self._grid_layer(principal, layer, address)
        with self._lock:
            self._cache[key] = content
            while len(self._cache) > CACHE_TILES:
                self._cache.popitem(last=False)
        return Tile(content, etag)

    def _grid_layer(self, principal: access.Principal, layer: str, address: TileAddress) -> bytes:
        if self.source.in_sql:
            return self.source.mvt(
                layer, address, area=principal.area, grid_codes=access.grid_scope(principal)
            )
        rows = self.source.features(layer, address)  # simplified to the zoom already
        codes = rows["code"] if layer == "grids" else rows["grid_code"]
        rows = rows[access.visible_grids(principal, codes)]
        layers = {layer: (rows.geometry.values, rows["properties"].tolist())}
        return encode_tile(layers, address, simplify=False)

    def _incidents(self, principal: access.Principal, address: TileAddress) -> bytes:
        points = self.incidents(address.lonlat_bounds(buffer=1 / 64))
        points = points[points.geometry.notna()]
        points = access.visible_incidents(principal, points)
        if len(points) == 0:
            return b""
        exact = access.incident_fields(principal).exact_location
        if self.source.in_sql:
            snap = 0.0 if exact else 10.0**-access.ROUNDED_DECIMALS
            return self.source.mvt(
                "incidents", address, incident_ids=points["id"].tolist(), snap_degrees=snap
            )
        geoms = access.rounded_points(principal, points.geometry.values)
        now = datetime.now(UTC)
        overdue = [d is not None and d == d and d < now for d in points["deadline_at"]]
        records = [
            {
                "id": int(r.id),
                "number": str(r.number),
                "state": str(r.state),
                "category_code": str(r.category_code),
                "grid_code": "" if r.grid_code is None else str(r.grid_code),
                "overdue": bool(late),
            }
            for r, late in zip(points.itertuples(), overdue, strict=True)
        ]
        return encode_tile({"incidents": (to_mercator(geoms), records)}, address)
