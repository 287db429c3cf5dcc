"""The three-level grid map page (区 → 街道 → 社区 → 网格) and vendored JS/CSS.

All JavaScript and CSS are served by the app itself (Leaflet from the
``xstatic-leaflet`` package): government intranets often reach no CDN.
Base-map tiles are optional: ``GRIDMGMT_TILE_URL`` (e.g. an intranet tile
server) with ``GRIDMGMT_TILE_CRS`` = ``wgs84`` or ``gcj02``; for GCJ-02 tiles
(AMap-style) our WGS84 data is shifted on the fly in the browser. The
default is a clean map with no base tiles.
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Blueprint, abort, current_app, render_template, send_from_directory
from flask_login import current_user

from webapp.extensions import store
from webapp.policy import public, requires

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
    return render_template("map.html", tiles=tiles, band=band, home=_home())


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
