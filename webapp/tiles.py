"""Vector tiles for city-scale maps: ``/tiles/<layer>/<z>/<x>/<y>.mvt``.

Layers ``grids``, ``buildings`` and ``incidents`` as Mapbox Vector Tiles
(PostGIS encodes them in SQL, the SQLite default in Python; see
:mod:`gridmgmt.domain.vector_tiles`). Every tile is what the access policy
lets the logged-in principal see. A malformed address (unknown layer, a
zoom outside 0..22, x or y outside 0..2^z-1, anything not an integer) is a
404; a tile with nothing in it is a 204. Tiles carry an ETag per data
version (a new grid version, new incidents) and principal, and are
revalidated with ``If-None-Match`` (304).
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, request

from gridmgmt.domain.errors import NotFoundError
from gridmgmt.domain.vector_tiles import VectorTiles
from gridmgmt.store.vector_tiles import VectorTileStore
from webapp.auth import current_principal
from webapp.extensions import store
from webapp.policy import requires

bp = Blueprint("tiles", __name__, url_prefix="/tiles")

MVT_TYPE = "application/vnd.mapbox-vector-tile"
#: how long a browser may use a tile before revalidating it
MAX_AGE = {"grids": 300, "buildings": 300, "incidents": 30}


def vector_tiles() -> VectorTiles:
    """This process's tile service (it keeps encoded tiles per data version)."""
    tiles = current_app.extensions.get("gridmgmt_tiles")
    if tiles is None or tiles.source.store is not store():
        source = VectorTileStore(store())
        tiles = VectorTiles(source, lambda bbox: store().incident_points(bbox=bbox))
        current_app.extensions["gridmgmt_tiles"] = tiles
    return tiles


@bp.get("/<layer>/<z>/<x>/<y>.mvt")
@requires("map.view")
def tile(layer: str, z: str, x: str, y: str):
    if not all(part.isdigit() and len(part) <= 8 for part in (z, x, y)):
        abort(404)
    sent = {tag.removesuffix("-gzip") for tag in request.if_none_match.as_set()}
    try:
        answer = vector_tiles().tile(
            current_principal(), layer, int(z), int(x), int(y), known_etags=sent
        )
    except NotFoundError as err:
        abort(404, description=str(err))
    except PermissionError:
        abort(403)
    status = 304 if answer.not_modified else (200 if answer.content else 204)
    response = Response(answer.content if status == 200 else b"", status=status)
    if status == 200:
        response.mimetype = MVT_TYPE
    response.set_etag(answer.etag)
    response.headers["Cache-Control"] = f"private, max-age={MAX_AGE[layer]}"
    response.headers["Vary"] = "Cookie"
    return response
