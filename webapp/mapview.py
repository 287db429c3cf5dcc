"""The three-level grid map page (区 → 街道 → 社区 → 网格) and vendored JS/CSS.

All JavaScript and CSS are served by the app itself (Leaflet from the
``xstatic-leaflet`` package): government intranets often reach no CDN.
Base-map tiles are optional: ``GRIDMGMT_TILE_URL`` (e.g. an intranet tile
server) with ``GRIDMGMT_TILE_CRS`` = ``wgs84`` or ``gcj02``; for GCJ-02 tiles
(AMap-style) our WGS84 data is shifted on the fly in the browser. The
default is a clean map with no base tiles. Large areas draw grids and
buildings from vector tiles (:mod:`webapp.tiles`, ``static/js/tiles.js``).
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Blueprint, abort, current_app, render_template, request, send_from_directory
from flask_login import current_user

from webapp.extensions import store
from webapp.policy import public, requires
from webapp.tiles import vector_tiles

bp = Blueprint("mapview", __name__)


def _vendor_dirs() -> dict[str, Path]:
    import xstatic.pkg.leaflet as leaflet

    return {"leaflet": Path(leaflet.BASE_DIR)}


@bp.get("/vendor/<package>/<path:filename>")
@public
def vendor(package: str, filename: str):
    dirs = current_app.extensions.setdefault("gridmgmt_vendor", _vendor_dirs())
    if package not in dirs:
        abort(404)
    return send_from_directory(dirs[package], filename, max_age=86400)


@bp.get("/")
@bp.get("/map")
@requires("map.view")
def index():
    tiles = {
        "url": os.environ.get("GRIDMGMT_TILE_URL", ""),
        "crs": os.environ.get("GRIDMGMT_TILE_CRS", "wgs84"),
        "attribution": os.environ.get("GRIDMGMT_TILE_ATTRIBUTION", ""),
    }
    band = current_app.config["GRIDMGMT_SETTINGS"].band
    return render_template(
        "map.html",
        tiles=tiles,
        band=band,
        home=_home(),
        vector_tiles=use_vector_tiles(tiles),
    )


def _home() -> dict | None:
    """A grid worker's own grids: the map opens on them and its breadcrumb names their 社区."""
    codes = list(getattr(current_user, "grid_codes", ()) or ())
    if getattr(current_user, "role", None) != "worker" or not codes:
        return None
    grids = store().current_grids()
    mine = grids[grids["code"].isin(codes)]
    if mine.empty:
        return None
    bbox = [round(float(v), 6) for v in mine.total_bounds]
    return {"bbox": bbox, "communities": sorted(set(mine["community_code"]))}


def use_vector_tiles(base_tiles: dict) -> bool:
    """Whether the map draws grids and buildings from vector tiles instead of GeoJSON.

    ``?tiles=1`` or ``?tiles=0`` decides; otherwise tiles are used when more
    grids are current than ``GRIDMGMT_VECTOR_TILES_ABOVE`` (default 300: a
    district or a city, where GeoJSON of every grid in view grows too large).
    Never under GCJ-02 base maps: tiles cannot be shifted in the browser.
    """
    if base_tiles["crs"] == "gcj02":
        return False
    asked = request.args.get("tiles")
    if asked in ("0", "1"):
        return asked == "1"
    threshold = current_app.config.get(
        "GRIDMGMT_VECTOR_TILES_ABOVE", int(os.environ.get("GRIDMGMT_VECTOR_TILES_ABOVE", "300"))
    )
    return vector_tiles().source.current_grid_count() > int(threshold)
