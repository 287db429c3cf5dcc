"""Overview: the landing page with what the database holds, and generated maps."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, send_from_directory

from webapp.auth import current_principal
from webapp.extensions import store
from webapp.policy import grid_allowed, may, public, requires

bp = Blueprint("overview", __name__)


@bp.get("/healthz")
@public
def healthz():
    return {"status": "ok", "backend": store().backend}


def _whole_maps_allowed() -> bool:
    """Maps of a whole 街道 are for unbound accounts of the roles that see every grid."""
    return may("maps.generated") and current_principal().area is None


@bp.get("/overview")
@requires("map.view")
def index():
    settings = current_app.config["GRIDMGMT_SETTINGS"]
    maps = (
        sorted(p.name for p in settings.maps_dir.glob("*.html"))
        if settings.maps_dir.is_dir() and _whole_maps_allowed()
        else []
    )
    communities = store().admin_areas("community")
    if len(communities):
        communities = communities[[grid_allowed(c) for c in communities["code"]]]
    grids = store().current_grids()
    per_community = (
        grids.groupby("community_code").agg(
            grids=("code", "size"), households=("households", "sum")
        )
        if len(grids)
        else None
    )
    rows = []
    for c in communities.itertuples():
        stats = (
            per_community.loc[c.code]
            if per_community is not None and c.code in per_community.index
            else None
        )
        rows.append(
            {
                "code": c.code,
                "name": c.name,
                "grids": int(stats["grids"]) if stats is not None else 0,
                "households": int(stats["households"]) if stats is not None else 0,
            }
        )
    counts = store().counts() if current_principal().area is None else None
    return render_template("overview.html", counts=counts, communities=rows, maps=maps)


@bp.get("/maps/<path:name>")
@requires("maps.generated")
def generated_map(name: str):
    settings = current_app.config["GRIDMGMT_SETTINGS"]
    if not name.endswith(".html") or not _whole_maps_allowed():
        abort(404)
    return send_from_directory(settings.maps_dir, name)
